"""Manual blur regions of a candidate version: a box (source pixels) over a time range (source
seconds) that an editor draws for anything the face detector missed (a tattoo, a badge, a face
in a photo). Stored in the version's render options under `blur_regions`, so they are part of
the version hash and of what reviewers approve; the publication plan carries them on the clip
clock as `BlurBox`es.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.boxes import TimedBox
from pipeline.errors import CounterclipsError
from pipeline.publication import BlurBox

KEY = "blur_regions"  # the render-options key
MAX_REGIONS = 50


class BlurRegionError(CounterclipsError):
    """A manual blur region is malformed or lies outside the picture or the clip."""


ManualBlur = TimedBox  # a box in source pixels blurred from `start` to `end` source seconds


def check_region(region: ManualBlur, src_width: int, src_height: int, clip_start: float,
                 clip_end: float) -> ManualBlur:
    """`region` clamped to the picture; raises BlurRegionError naming what is wrong."""
    if region.width <= 0 or region.height <= 0:
        raise BlurRegionError("the box needs a positive width and height")
    if region.x < 0 or region.y < 0 or region.x >= src_width or region.y >= src_height:
        raise BlurRegionError(f"the box must start inside the {src_width}x{src_height} picture")
    if not region.end > region.start:
        raise BlurRegionError("the blur must end after it starts")
    if region.end <= clip_start or region.start >= clip_end:
        raise BlurRegionError(f"the time range must overlap the clip ({clip_start:.2f}-{clip_end:.2f} s)")
    return ManualBlur(region.x, region.y, min(region.width, src_width - region.x),
                      min(region.height, src_height - region.y), region.start, region.end)


def regions_of(render_options: Mapping[str, Any]) -> tuple[ManualBlur, ...]:
    """The manual regions stored in a version's render options (malformed entries raise)."""
    out = []
    for r in render_options.get(KEY) or ():
        try:
            out.append(ManualBlur(int(r["x"]), int(r["y"]), int(r["width"]), int(r["height"]),
                                  float(r["start"]), float(r["end"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise BlurRegionError(f"malformed stored blur region {r!r}: {exc}") from None
    return tuple(out)


def with_regions(render_options: Mapping[str, Any], regions: Iterable[ManualBlur]) -> dict[str, Any]:
    """New render options holding exactly `regions` (the key dropped when there are none)."""
    regions = tuple(regions)
    if len(regions) > MAX_REGIONS:
        raise BlurRegionError(f"at most {MAX_REGIONS} manual blur regions per clip")
    out = {k: v for k, v in render_options.items() if k != KEY}
    if regions:
        out[KEY] = [r.to_json() for r in sorted(regions, key=lambda r: (r.start, r.end, r.x, r.y))]
    return out


def clip_boxes(regions: Sequence[ManualBlur], clip_start: float, clip_end: float) -> tuple[BlurBox, ...]:
    """The regions inside [clip_start, clip_end) as plan boxes on the clip clock."""
    out = []
    for r in regions:
        a, b = max(r.start, clip_start), min(r.end, clip_end)
        if b > a:
            out.append(BlurBox(r.x, r.y, r.width, r.height,
                               round(a - clip_start, 3), round(b - clip_start, 3)))
    return tuple(out)
