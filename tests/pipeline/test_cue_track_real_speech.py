"""Cue tracks on real speech: a two-speaker phone call transcribed by the real default backend,
with the speakers of its diarisation reference (RTTM) put on the words."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.cue_edits import edit_text
from pipeline.cue_track import DASH, build_track, check_track, retrim, speaker_of, track_words
from pipeline.cue_track_io import track_from_json, track_to_json
from pipeline.subtitles import format_srt, parse_srt
from tests.conftest import SHARED_MEDIA
from tests.pipeline.cue_support import SpokenWord, assert_track_ok

pytestmark = pytest.mark.slow


def media(name: str) -> Path:
    for root in (SHARED_MEDIA, Path(os.environ.get("COUNTERCLIPS_SHARED_MEDIA", "/work/shared/media"))):
        if (root / name).is_file():
            return root / name
    pytest.skip(f"{name} not available")


def _speaker_at(turns: list[tuple[float, float, str]], start: float, end: float) -> str | None:
    overlap: dict[str, float] = {}
    for a, b, who in turns:
        overlap[who] = overlap.get(who, 0.0) + max(0.0, min(b, end) - max(a, start))
    best = max(overlap, key=lambda k: overlap[k], default=None)
    return best if best is not None and overlap[best] > 0 else None


def test_real_two_speaker_call():
    from pipeline.transcribe import TranscribeOptions, transcribe

    audio = media("en_2spk_phonecall_pyannote.wav")
    turns = []
    for line in media("en_2spk_phonecall_pyannote.rttm").read_text().splitlines():
        f = line.split()
        turns.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    transcript = transcribe(audio, TranscribeOptions(language="en"))
    words = [SpokenWord(w.start, w.end, w.text, w.probability, _speaker_at(turns, w.start, w.end))
             for w in transcript.words]
    assert len({w.speaker for w in words if w.speaker}) == 2

    track = build_track(words, 6.0, 29.0, 30, "en")
    assert_track_ok(track)
    assert len(track.cues) >= 5
    tw = track_words(words)
    for cue in track.cues:
        said = [s for s in (speaker_of(tw[i]) for i in range(*cue.words)) if s]
        # Two speakers: dashed lines, or a one- or two-word turn too short to show alone.
        assert (len(set(said)) <= 1 or all(line.startswith(DASH) for line in cue.lines)
                or min(said.count(s) for s in set(said)) <= 2)
    # Reading speed may exceed the limit on fast real speech; the other limits hold.
    assert {p.kind for p in check_track(track)} <= {"cps"}

    edited, _ = edit_text(track, track.cues[2].id, "an edited line")
    trimmed, dropped = retrim(edited, words, track.cues[1].start, track.cues[1].start + 12.0)
    assert_track_ok(trimmed)
    kept = [c for c in trimmed.cues if c.edited]
    assert [c.text for c in kept] == ["an edited line"] or [d.text for d in dropped] == ["an edited line"]
    assert track_from_json(track_to_json(trimmed)) == trimmed
    for cue in parse_srt(format_srt(trimmed.as_cues())):
        assert trimmed.start - 1e-3 <= cue.start < cue.end <= trimmed.end + 1e-3
