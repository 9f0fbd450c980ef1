"""The frame grid: exact rates, snapping, and the frame rate of a stored media record."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clips_metadata.serialize import media_to_json
from pipeline.frames import FrameRateError, fps_text, frame_rate, media_fps, on_grid, snap_to_frames, to_frame
from pipeline.records import MediaInfo, StreamInfo


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
    assert snap_to_frames(t, fps, "floor") <= t + 1e-9 <= snap_to_frames(t, fps, "ceil") + 2e-9


def test_thirty_fps_gives_multiples_of_a_thirtieth():
    assert snap_to_frames(1.01, 30) == 1.0 and snap_to_frames(1.02, 30) == pytest.approx(31 / 30)
    assert to_frame(3600.0, "30000/1001") == 107892  # no drift over an hour: 3600 * 29.97


def test_media_fps_reads_the_video_stream_of_the_stored_record():
    # The export bug: the stored media record has no top-level "fps", so every export used 25.
    info = MediaInfo("/x.mp4", "0" * 64, 1, "mov,mp4", 10.0, (
        StreamInfo(0, "audio", "aac", sample_rate=48000, channels=2),
        StreamInfo(1, "video", "h264", width=1280, height=720, fps=30.0)))
    record = media_to_json(info)
    assert "fps" not in record
    assert media_fps(record) == 30
    ntsc = media_to_json(MediaInfo("/y.mp4", "0" * 64, 1, "mov", 1.0, (
        StreamInfo(0, "video", "h264", fps=29.97002997),)))
    assert media_fps(ntsc) == Fraction(30000, 1001)
    assert media_fps(None) == 25 and media_fps({"streams": [{"kind": "audio"}]}) == 25
    assert media_fps({"streams": [{"kind": "video", "fps": "junk"}]}) == 25
