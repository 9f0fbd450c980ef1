"""The transcription's thread count is recorded and survives the JSON round trip (issue 19)."""

from __future__ import annotations

from pipeline.records import Segment, Transcript, Word
from pipeline.transcript_io import transcript_from_dict, transcript_to_dict


def test_threads_round_trip_and_old_json_reads_as_unrecorded():
    t = Transcript("en", 0.9, 2.0, (Segment(0.0, 1.0, "hi", (Word(0.0, 1.0, "hi", 0.9),)),),
                   "faster-whisper", "base", threads=2)
    d = transcript_to_dict(t)
    assert d["threads"] == 2 and transcript_from_dict(d) == t
    del d["threads"]
    assert transcript_from_dict(d).threads == 0
