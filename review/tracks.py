"""A candidate version's cue tracks as the page and the export read them: the stored ones,
with the original language's track built on first use (`build_track`) and stored."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from clips_metadata.cue_tracks_repo import CueTracksRepo
from pipeline.cue_track import CueTrack, build_track
from pipeline.frames import media_fps
from pipeline.records import Word


def source_fps(store: Any, interview_id: int) -> Fraction:
    """The source's own frame rate, from its stored media record (default 25 when unknown)."""
    return media_fps(store.get_interview(interview_id).media)


def current_tracks(store: Any, cand: Any, words: Sequence[Word], fps: Fraction) -> dict[str, CueTrack]:
    """The tracks of the candidate's current version by language; the original language's is
    derived from `words` inside [in, out] and stored when the version has none yet."""
    repo = CueTracksRepo(store)
    tracks = repo.tracks(cand.id, cand.version)
    original = cand.language or "en"
    if original not in tracks:
        built = build_track(words, cand.start, cand.end, fps, original)
        repo.save_derived(cand.id, cand.version, {original: built})
        tracks = repo.tracks(cand.id, cand.version)
    return tracks


def track_text(track: CueTrack) -> str:
    """The track's words as one text (kept in the version's `subtitles` for text readers)."""
    return " ".join(" ".join(c.lines) for c in track.cues)


def store_first_tracks(store: Any, candidates: Sequence[Any], words: Sequence[Word], fps: Fraction) -> None:
    """Derived tracks of freshly proposed candidates (their version 1), in one transaction."""
    from clips_metadata.cue_tracks_repo import tracks_in, write_tracks
    from pipeline.cue_track_io import track_to_dict

    built = {c.id: track_to_dict(build_track(words, c.start, c.end, fps, c.language or "en"))
             for c in candidates}
    with store.transaction() as s:
        for c in candidates:
            if (c.language or "en") not in tracks_in(s, c.id, c.version):
                write_tracks(s, c.id, c.version, {c.language or "en": built[c.id]}, hashed=False)


def inside_cut(cues: Sequence[Any], start: float, end: float) -> tuple[Any, ...]:
    """Cues clamped to [start, end]; a cue with nothing left inside is left out."""
    from pipeline.records import Cue

    out = []
    for c in cues:
        a, b = max(c.start, start), min(c.end, end)
        if b > a + 1e-9:
            out.append(c if (a, b) == (c.start, c.end) else Cue(a, b, tuple(c.lines)))
    return tuple(out)
