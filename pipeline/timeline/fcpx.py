"""FCPXML through the OTIO adapter, without its ffprobe call and with exact format names.

The adapter names formats by probing the media with `ffprobe` (absent here: imageio-ffmpeg ships
only ffmpeg) and looks frame durations up in a table keyed by rounded rates, so 29.97 fps gets
none. A subclass answers both from the clip's own metadata (size and rate from the plan).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pipeline.timeline.build import META_KEY
from pipeline.timeline.neutral_names import exact_rate, rate_label

# FCPX's names for standard frame sizes; others get "FFVideoFormatRateUndefined" with width/height.
_SIZES = {
    (1920, 1080): "1080p",
    (1280, 720): "720p",
    (3840, 2160): "3840x2160p",
    (4096, 2160): "4096x2160p",
    (1080, 1920): "1080x1920p",
    (720, 1280): "720x1280p",
    (1080, 1080): "1080x1080p",
    (640, 480): "640x480p",
}


def format_name(width: int, height: int, fps: float) -> str:
    """FCPX's format name for a frame size and rate, e.g. FFVideoFormat1080p2997."""
    size = _SIZES.get((width, height))
    if size is None:
        return "FFVideoFormatRateUndefined"
    return f"FFVideoFormat{size}{rate_label(fps)}"


def frame_duration(fps: float) -> str:
    """A frame's duration as FCPXML writes it: 29.97 → "1001/30000s", 25 → "1/25s"."""
    rate = exact_rate(fps)
    frac = Fraction(1001, round(rate * 1001)) if rate != round(rate) else Fraction(1, round(rate))
    return f"{frac.numerator}/{frac.denominator}s"


def _size_meta(item: Any) -> dict[str, Any]:
    """Width/height stored on a clip's media reference; a stack or track uses its first clip's."""
    clip = item if hasattr(item, "media_reference") else next(iter(item.find_clips()), None)
    ref = getattr(clip, "media_reference", None)
    return dict(ref.metadata.get(META_KEY, {})) if ref is not None else {}


def write_fcpxml_string(timeline: Any) -> str:
    """FCPXML 1.8 text of `timeline` (one video track), format names from clip metadata."""
    from otio_fcpx_xml_adapter import fcpx_xml

    class _Writer(fcpx_xml.FcpxOtio):  # type: ignore[misc, name-defined]
        @staticmethod
        def _framerate_to_frame_duration(framerate: float) -> str:
            return frame_duration(framerate)

        def _clip_format_name(self, clip: Any) -> str:
            meta = _size_meta(clip)
            return format_name(int(meta.get("width", 0)), int(meta.get("height", 0)), clip.duration().rate)

        def _find_or_create_format_from(self, clip: Any) -> Any:
            element = super()._find_or_create_format_from(clip)
            meta = _size_meta(clip)
            if meta.get("width") and meta.get("height"):
                element.set("width", str(meta["width"]))
                element.set("height", str(meta["height"]))
            return element

    return str(_Writer(timeline).to_xml())
