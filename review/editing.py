"""The editor's cut and cue edits (issue 14): the one home of the rules that a trim and a cue
operation follow before they become a new candidate version through the edit service.

A trim snaps to word boundaries and frames, refuses a clip under 1 s or a cut that the cut-point
checks call an error, asks for confirmation of a mid-sentence cut, and re-derives every cue track
inside the new cut (`retrim`), reporting the edits that could not be kept. A cue operation edits
the original language's track (text, split, merge, a frame's nudge of one edge)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.cue_track import CueTrack, retrim
from pipeline.cue_track_io import track_to_dict
from pipeline.cut_points import cut_warnings, snap_cut
from review import present
from review.rules import ReviewError
from review.service import ReviewService
from review.tracks import current_tracks, source_fps, track_text
from review.transcript_views import as_sentences, words_of

CUE_OPS = ("text", "split", "merge", "start-", "start+", "end-", "end+")


class CueEditRefused(ReviewError):
    """A cue operation that cannot be made as asked (no text, unknown operation)."""


@dataclass(frozen=True, slots=True)
class TrimResult:
    """What `trim_candidate` did. `errors` (by side, "in" or "out") or a `warning` that needs
    confirmation mean nothing was saved; `unchanged` means the snapped cut is the current one."""

    start: float = 0.0
    end: float = 0.0
    errors: Mapping[str, str] = field(default_factory=dict)
    warning: str = ""
    unchanged: bool = False
    dropped: tuple[Any, ...] = ()

    @property
    def saved(self) -> bool:
        return not (self.errors or self.warning or self.unchanged)


def trim_candidate(rs: Any, candidate_id: int, version: int, t_in: float, t_out: float, *,
                   confirm_mid_sentence: bool, actor: str, role: str, note: str = "") -> TrimResult:
    """Cut the candidate to [t_in, t_out] (source seconds, as the editor typed them)."""
    store = rs.store
    cand = store.get_candidate(candidate_id)
    ctx = rs.interview_context(candidate_id)
    sentences = as_sentences(ctx)
    words = words_of(sentences)
    errors = {p.side or "out": p.message for p in cut_warnings(sentences, t_in, t_out, ctx.duration)
              if p.severity == "error"}
    if errors:
        return TrimResult(errors=errors)
    if not words:
        return TrimResult(errors={"in": "The transcript has no word timings to cut at."})
    fps = source_fps(store, cand.interview_id)
    s_in, s_out = snap_cut(words, t_in, "in", fps), snap_cut(words, t_out, "out", fps)
    s_in, s_out = max(0.0, s_in), min(s_out, max(ctx.duration, s_out))
    if s_out - s_in < 1.0:
        return TrimResult(errors={"out": "After snapping to word boundaries the clip would be shorter "
                                         "than 1 s."})
    mids = [p.message for p in cut_warnings(sentences, s_in, s_out, max(ctx.duration, s_out))
            if p.kind == "mid_sentence"]
    if mids and not confirm_mid_sentence:
        return TrimResult(warning="; ".join(mids) + ". Tick “cut mid-sentence” to keep this cut.")
    if math.isclose(s_in, cand.start, abs_tol=1e-4) and math.isclose(s_out, cand.end, abs_tol=1e-4):
        return TrimResult(s_in, s_out, unchanged=True)
    new_tracks: dict[str, CueTrack] = {}
    dropped_all = []
    for lang, tr in current_tracks(store, cand, words, fps).items():
        new_tracks[lang], dropped = retrim(tr, words, s_in, s_out, fps)
        dropped_all.extend(dropped)
    original = cand.language or "en"
    changes: dict[str, Any] = {
        "start": s_in, "end": s_out,
        "sentence_indices": list(present.sentences_in(sentences, s_in, s_out)),
        "cue_tracks": {k: track_to_dict(t) for k, t in new_tracks.items()},
    }
    if original in new_tracks:
        changes["subtitles"] = {**cand.subtitles, original: track_text(new_tracks[original])}
    ReviewService(rs).edit(candidate_id, version, changes, actor=actor, role=role,
                           note=note or f"trimmed to {s_in:.3f}-{s_out:.3f} s")
    return TrimResult(s_in, s_out, dropped=tuple(dropped_all))


def edit_cue(rs: Any, candidate_id: int, version: int, cue_id: str, op: str, *, text: str = "",
             at: int = 0, actor: str, role: str) -> tuple[bool, float]:
    """Apply `op` to the original language's cue `cue_id`. Returns (saved, the cue's start);
    saved is False when the cue held (by its neighbours or the cut). Raises CueEditRefused."""
    from pipeline import cue_edits

    store = rs.store
    cand = store.get_candidate(candidate_id)
    words = words_of(as_sentences(rs.interview_context(candidate_id)))
    fps = source_fps(store, cand.interview_id)
    original = cand.language or "en"
    track = current_tracks(store, cand, words, fps)[original]
    cue = track.cue(cue_id)
    if op == "text":
        if not text.strip():
            raise CueEditRefused("A cue needs text; merge it instead to remove it.")
        new, _ = cue_edits.edit_text(track, cue_id, text)
    elif op == "split":
        new, _ = cue_edits.split_cue(track, cue_id, at or len(cue.text) // 2, words)
    elif op == "merge":
        new, _ = cue_edits.merge_cues(track, cue_id)
    elif op in CUE_OPS:
        edge = "start" if op.startswith("start") else "end"
        t = getattr(cue, edge) + (1 / float(fps) if op.endswith("+") else -1 / float(fps))
        new, _ = cue_edits.nudge_edge(track, cue_id, edge, t)
    else:
        raise CueEditRefused(f"unknown cue operation {op!r}")
    if new == track:
        return False, cue.start
    changes = {"cue_tracks": {original: track_to_dict(new)},
               "subtitles": {**cand.subtitles, original: track_text(new)}}
    ReviewService(rs).edit(candidate_id, version, changes, actor=actor, role=role, note=f"cue {cue_id}: {op}")
    return True, cue.start
