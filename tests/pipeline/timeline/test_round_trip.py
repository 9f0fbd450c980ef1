"""Property: any frame-aligned cut survives export and import in every readable format."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.timeline.neutral_names import exact_rate
from pipeline.timeline.read import read_timeline
from pipeline.timeline.write import export_timeline

from .helpers import grant_for, known_source, make_clip

RATES = (24.0, 25.0, 29.97, 30.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fps=st.sampled_from(RATES),
    fmt=st.sampled_from(("otio", "fcp7", "edl")),
    start=st.integers(min_value=0, max_value=300 * 30),
    length=st.integers(min_value=1, max_value=90 * 30),
)
def test_frame_aligned_cuts_round_trip(fps: float, fmt: str, start: int, length: int) -> None:
    rate = exact_rate(fps)
    in_s, out_s = start / rate, (start + length) / rate
    with tempfile.TemporaryDirectory() as tmp:
        clip = replace(make_clip(Path(tmp), fps=fps), in_s=in_s, out_s=out_s, markers=())
        (path, *_) = export_timeline([clip], tmp, "c1v1", fmt, [grant_for(clip)])
        cut = read_timeline(path, source=known_source(clip), fps=fps)
    ((got_in, got_out),) = cut.ranges
    assert round(got_in * rate) == start
    assert round(got_out * rate) == start + length
    assert got_in == pytest.approx(in_s, abs=1e-6) and got_out == pytest.approx(out_s, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(fps=st.sampled_from(RATES), in_s=st.floats(0, 500), length=st.floats(0.2, 90))
def test_unaligned_cuts_snap_to_the_nearest_frame(fps: float, in_s: float, length: float) -> None:
    rate = exact_rate(fps)
    with tempfile.TemporaryDirectory() as tmp:
        clip = replace(make_clip(Path(tmp), fps=fps), in_s=in_s, out_s=in_s + length, markers=())
        (path, *_) = export_timeline([clip], tmp, "c1v1", "otio", [grant_for(clip)])
        ((got_in, got_out),) = read_timeline(path, source=known_source(clip)).ranges
    # read_timeline rounds seconds to the microsecond, so a tie (7.5 frames) may land 1 µs past half
    assert abs(got_in - in_s) <= 0.5 / rate + 1e-6
    assert abs(got_out - (in_s + length)) <= 1.0 / rate + 1e-6
