"""The source's frame grid: one home for frame rates and for snapping times onto frames.

A frame rate is an exact `Fraction` so that NTSC rates stay exact: 29.97 fps is 30000/1001, and
frame k starts at k * 1001/30000 s with no drift over an hour. Probing reports rates as floats
(29.97002997...), so `frame_rate` recognises the NTSC family and otherwise keeps the float's
simplest nearby fraction. Times stay float seconds everywhere else; only the snapping is exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Literal

from pipeline.errors import SubtitleError

DEFAULT_FPS = Fraction(25)
_NTSC = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001), Fraction(120000, 1001))
Rounding = Literal["nearest", "floor", "ceil"]


class FrameRateError(SubtitleError):
    """A frame rate is missing, not a number, or not positive."""


class FrameTimeError(SubtitleError):
    """A time to put on the frame grid is not a finite number."""


def frame_rate(fps: float | int | Fraction | str) -> Fraction:
    """`fps` as an exact rate: "30000/1001", 29.97 and 29.97002997 all give Fraction(30000, 1001)."""
    try:
        rate = Fraction(fps) if isinstance(fps, str) else Fraction(fps).limit_denominator(1001)
    except (TypeError, ValueError, ZeroDivisionError):
        raise FrameRateError(f"frame rate {fps!r} is not a number") from None
    if not rate > 0 or not math.isfinite(float(rate)):
        raise FrameRateError(f"frame rate {fps!r} must be positive")
    for ntsc in _NTSC:
        if abs(float(rate) - float(ntsc)) < 0.005:
            return ntsc
    return rate


def fps_text(fps: float | Fraction | str) -> str:
    """The rate as ffmpeg and the stored track write it: "25", "30000/1001"."""
    rate = frame_rate(fps)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def to_frame(t: float, fps: float | Fraction | str, rounding: Rounding = "nearest") -> int:
    """Index of the frame at `t` seconds (nearest frame start, or the one at or before/after)."""
    if isinstance(t, bool) or not isinstance(t, int | float | Fraction) or not math.isfinite(t):
        raise FrameTimeError(f"time {t!r:.40} is not a finite number of seconds")
    exact = Fraction(t) * frame_rate(fps)
    # Times read back from milliseconds sit a hair off the grid: within 1e-6 frame is on it.
    nearest = round(exact)
    if abs(exact - nearest) < Fraction(1, 1_000_000):
        return int(nearest)
    if rounding == "floor":
        return math.floor(exact)
    if rounding == "ceil":
        return math.ceil(exact)
    return int(nearest)


def frame_time(frame: int, fps: float | Fraction | str) -> float:
    """Start of frame `frame` in seconds."""
    return float(Fraction(frame) / frame_rate(fps))


def snap_to_frames(t: float, fps: float | Fraction | str, rounding: Rounding = "nearest") -> float:
    """`t` moved onto the frame grid of `fps` (30 fps: a multiple of 1/30 s)."""
    return frame_time(to_frame(t, fps, rounding), fps)


def on_grid(t: float, fps: float | Fraction | str, tolerance: float = 1e-6) -> bool:
    """True when `t` is a frame start (within `tolerance` seconds)."""
    return abs(t - snap_to_frames(t, fps)) <= tolerance


def media_fps(media: Mapping[str, Any] | None, default: Fraction = DEFAULT_FPS) -> Fraction:
    """The video frame rate of a stored media record (`clips_metadata.serialize.media_to_json`).

    The record keeps the rate per stream (`streams[k].fps`), never at the top level. A source
    without video (audio only) or without a usable rate gets `default`.
    """
    if not media:
        return default
    top = media.get("fps")
    candidates = [top] if top else []
    streams = media.get("streams") or ()
    candidates += [s.get("fps") for s in streams if isinstance(s, Mapping) and s.get("kind") == "video"]
    for value in candidates:
        try:
            return frame_rate(value)
        except FrameRateError:
            continue
    return default
