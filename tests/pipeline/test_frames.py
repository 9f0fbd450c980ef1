"""The frame grid: exact rates, snapping, and the frame rate of a stored media record."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.frames import (
    FrameRateError,
    FrameTimeError,
    fps_text,
    frame_rate,
    media_fps,
    on_grid,
    snap_to_frames,
    to_frame,
)


def test_rates_are_exact():
    assert frame_rate(29.97) == frame_rate(29.97002997) == frame_rate("30000/1001") == Fraction(30000, 1001)
    assert frame_rate(23.976) == Fraction(24000, 1001) and frame_rate(59.94) == Fraction(60000, 1001)
    assert frame_rate(25.0) == 25 and fps_text(30) == "30" and fps_text(29.97) == "30000/1001"
    for bad in ("abc", 0, -25, "1/0", float("nan")):
        with pytest.raises(FrameRateError):
            frame_rate(bad)


@given(t=st.floats(0, 10_000), fps=st.sampled_from([24, 25, 30, 29.97, 50, 60, 59.94]))
def test_snapped_times_are_frame_starts(t, fps):
    s = snap_to_frames(t, fps)
    assert abs(s - t) <= 0.5 / float(frame_rate(fps)) + 1e-9
    assert on_grid(s, fps) and snap_to_frames(s, fps) == s
    # to_frame treats a time within 1e-6 frame of a frame start as on it, whatever the rounding
    hair = 1e-6 / float(frame_rate(fps)) + 1e-9
    assert snap_to_frames(t, fps, "floor") <= t + hair and t <= snap_to_frames(t, fps, "ceil") + hair


def test_thirty_fps_gives_multiples_of_a_thirtieth():
    assert snap_to_frames(1.01, 30) == 1.0 and snap_to_frames(1.02, 30) == pytest.approx(31 / 30)
    assert to_frame(3600.0, "30000/1001") == 107892  # no drift over an hour: 3600 * 29.97


def _stored(*streams: dict) -> dict:
    # The shape clips_metadata.serialize.media_to_json stores (fps only per stream).
    return {"path": "/x.mp4", "sha256": "0" * 64, "size": 1, "container": "mov,mp4", "duration": 10.0,
            "streams": [{"index": k, "duration": None, "sample_rate": None, "channels": None, "width": None,
                         "height": None, "fps": None, **s} for k, s in enumerate(streams)]}


def test_media_fps_reads_the_video_stream_of_the_stored_record():
    # The export bug: the stored media record has no top-level "fps", so every export used 25.
    record = _stored({"kind": "audio", "codec": "aac", "sample_rate": 48000},
                     {"kind": "video", "codec": "h264", "width": 1280, "height": 720, "fps": 30.0})
    assert "fps" not in record
    assert media_fps(record) == 30
    assert media_fps(_stored({"kind": "video", "codec": "h264", "fps": 29.97002997})) == Fraction(30000, 1001)
    assert media_fps(None) == 25 and media_fps(_stored({"kind": "audio", "codec": "aac"})) == 25
    assert media_fps(_stored({"kind": "video", "codec": "h264", "fps": "junk"})) == 25


def test_times_must_be_finite_numbers():
    for bad in (float("nan"), float("inf"), "1.0", None, True):
        with pytest.raises(FrameTimeError):
            to_frame(bad, 25)  # type: ignore[arg-type]
