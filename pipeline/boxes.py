"""A box of picture over a time range: one record for every blurred rectangle.

The same shape serves on two clocks. An editor's region (`pipeline.blur_boxes.ManualBlur`) and a
detector-missed face (`pipeline.render.faces.ManualRegion`) run on the source clock; a plan's
`BlurBox` runs on the clip clock (0 = the in point). The names say which clock a value is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TimedBox:
    """A box in source pixels (x, y, width, height) shown from `start` to `end` seconds."""

    x: int
    y: int
    width: int
    height: int
    start: float
    end: float

    def to_json(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height,
                "start": round(self.start, 3), "end": round(self.end, 3)}  # fmt: skip
