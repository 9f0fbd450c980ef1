"""Subtitle tracks for an export: cues moved onto the clip's clock, the ASS document that libass
burns in, and the SRT/WebVTT sidecars.

Formatting and escaping belong to `pipeline.subtitles`; this module adapts its style to a profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.records import Cue
from pipeline.render.profiles import SubtitleLook
from pipeline.translation.limits import is_rtl_language

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
MIN_CUE = 0.2  # seconds: a cue clipped shorter than this at the clip's edge is dropped
MAX_LINE_CHARS = 42  # the style limit (docs/SUBTITLES.md) that pipeline.cues enforces
AVERAGE_ADVANCE = 0.5  # average advance of a character of running text in Noto Sans Bold, in em


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    """Approved subtitle cues in one language, timed on the source media's clock (seconds)."""

    language: str
    cues: tuple[Cue, ...]


def clip_cues(cues: Sequence[Cue], start: float, end: float, offset: float = 0.0) -> tuple[Cue, ...]:
    """Cues overlapping [start, end) on the clip's clock (0 = `start`), shifted by `offset`
    (the title card's length) and clipped to the clip."""
    out = []
    for c in cues:
        a, b = max(c.start, start) - start, min(c.end, end) - start
        if b - a >= MIN_CUE and c.lines:
            out.append(Cue(round(a + offset, 3), round(b + offset, 3), tuple(c.lines)))
    return tuple(out)


def ass_style(look: SubtitleLook, width: int, height: int, language: str,
              longest_line: int = MAX_LINE_CHARS) -> Any:
    """The `pipeline.subtitles.AssStyle` of one profile at one output size (output pixels)."""
    from pipeline.subtitles import AssStyle

    margin_h = round(width * look.margin_h_ratio)
    # Never so large that the longest line of the track (at most 42 characters) would not fit
    # between the margins: narrow frames (vertical, square, a square source in master) get the
    # size that fits; a track of short lines keeps the profile's full size.
    fits = (width - 2 * margin_h) / (max(12, min(longest_line, MAX_LINE_CHARS)) * AVERAGE_ADVANCE)
    return AssStyle(
        font_name=look.arabic_font if is_rtl_language(language) else look.latin_font,
        font_size=max(10, round(min(height * look.size_ratio, fits))),
        play_res_x=width,
        play_res_y=height,
        margin_l=margin_h,
        margin_r=margin_h,
        margin_v=round(height * look.margin_v_ratio),
        alignment=look.alignment,
        outline=max(1.0, round(height * look.outline_ratio, 1)),
        shadow=0.0,
        bold=look.bold,
    )


def format_ass(cues: Sequence[Cue], look: SubtitleLook, width: int, height: int, language: str) -> str:
    """An ASS document for burning `cues` into a `width`x`height` frame (escaped: literal text)."""
    from pipeline import subtitles

    longest = max((len(line) for c in cues for line in c.lines), default=MAX_LINE_CHARS)
    return subtitles.format_ass(tuple(cues), ass_style(look, width, height, language, longest))


def format_srt(cues: Sequence[Cue]) -> str:
    from pipeline import subtitles

    return subtitles.format_srt(tuple(cues))


def format_vtt(cues: Sequence[Cue]) -> str:
    from pipeline import subtitles

    return subtitles.format_vtt(tuple(cues))
