"""Property: whatever an editing suite (or an attacker) sends back, import answers with a cut or
a one-line TimelineRefused, never another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import TimelineRefused
from pipeline.timeline.read import read_timeline
from pipeline.timeline.write import export_timeline

from .helpers import grant_for, known_source, make_clip


def _exported(fmt: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp), in_s=12.0, out_s=20.0)
        (path, *_) = export_timeline([clip], tmp, "c1v1", fmt, [grant_for(clip)])
        return path.read_text().replace(tmp, "/fixed")


VALID = {fmt: _exported(fmt) for fmt in ("otio", "fcp7", "edl")}
SUFFIX = {"otio": ".otio", "fcp7": ".xml", "edl": ".edl"}


@settings(max_examples=150, deadline=None)
@given(
    fmt=st.sampled_from(sorted(VALID)),
    cut_at=st.floats(0, 1),
    cut_len=st.integers(0, 200),
    insert=st.text(max_size=20),
)
def test_mangled_timelines_are_read_or_refused(fmt: str, cut_at: float, cut_len: int, insert: str) -> None:
    text = VALID[fmt]
    at = int(cut_at * len(text))
    mangled = text[:at] + insert + text[at + cut_len :]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"recut{SUFFIX[fmt]}"
        path.write_text(mangled)
        clip = make_clip(Path("/fixed"), in_s=12.0, out_s=20.0)
        try:
            cut = read_timeline(path, source=known_source(clip), fps=25)
        except TimelineRefused as exc:
            assert "\n" not in str(exc)
        else:
            assert all(0 <= a < b <= 600.0 for a, b in cut.ranges)
