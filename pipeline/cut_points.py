"""Where a clip may be cut: in/out points snapped to word boundaries and to the source's frames,
and the warnings and errors an editor sees next to the trim controls.

An in point goes to the start of a word and an out point to the end of one, so no word is cut in
half (Descript-style editing by text); then the in point moves down and the out point up to a
frame, so the first and last words stay whole on the frame grid too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pipeline.frames import snap_to_frames
from pipeline.records import Sentence, Word

Side = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class CutProblem:
    """One finding about a cut. severity "error" refuses the cut, "warning" asks to confirm.

    kind: not_a_number | order | before_start | after_end | mid_sentence.
    side: "in", "out" or "" when it concerns both.
    """

    severity: Literal["error", "warning"]
    kind: str
    side: str
    message: str


def snap_cut(words: Sequence[Word], t: float, side: Side, fps: float | Fraction | str | None = None) -> float:
    """`t` moved to the nearest word boundary for that side (a word's start for "in", a word's
    end for "out"); a time inside a word goes to that word's edge. With `fps`, then onto a frame
    that keeps the word whole (in: the frame at or before, out: at or after)."""
    if side not in ("in", "out"):
        raise ValueError(f"side must be 'in' or 'out', not {side!r}")
    edges = [w.start for w in words] if side == "in" else [w.end for w in words]
    snapped = t
    if edges:
        inside = next((w for w in words if w.start < t < w.end), None)
        if inside is not None:
            snapped = inside.start if side == "in" else inside.end
        else:
            snapped = min(edges, key=lambda e: (abs(e - t), e))
    if fps is None:
        return snapped
    return snap_to_frames(snapped, fps, "floor" if side == "in" else "ceil")


def cut_warnings(sentences: Sequence[Sentence], start: float, end: float, duration: float,
                 ) -> tuple[CutProblem, ...]:
    """Errors for a cut that cannot be made (not numbers, out before in, outside the interview
    such as out = 9999 s), warnings for one that splits a sentence."""
    problems: list[CutProblem] = []

    def error(kind: str, side: str, message: str) -> None:
        problems.append(CutProblem("error", kind, side, message))

    for value, side in ((start, "in"), (end, "out")):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            error("not_a_number", side, f"{side} point {value!r:.20} is not a time")
    if problems:
        return tuple(problems)
    if start < 0:
        error("before_start", "in", f"in point {start:.3f} s is before the interview")
    if end > duration + 1e-6:
        error("after_end", "out", f"out point {end:.3f} s is after the interview ends ({duration:.3f} s)")
    if end <= start:
        error("order", "", f"out point {end:.3f} s is not after in point {start:.3f} s")
    if any(p.severity == "error" for p in problems):
        return tuple(problems)
    slack = 0.05  # a cut this close to a sentence edge is at the edge
    for s in sentences:
        for t, side in ((start, "in"), (end, "out")):
            if s.start + slack < t < s.end - slack:
                problems.append(CutProblem("warning", "mid_sentence", side,
                                           f"{side} point {t:.3f} s cuts sentence {s.index} "
                                           f"({s.start:.2f}-{s.end:.2f} s) mid-way: {_snippet(s.text)}"))
    return tuple(problems)


def _snippet(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"“{text}”" if len(text) <= limit else f"“{text[: limit - 1]}…”"
