"""Voice alteration: a pitch shift with formants preserved (rubberband), so the speaker is harder to
recognise but still sounds like a natural human voice rather than a cartoon."""

from __future__ import annotations

import math

from pipeline.errors import RenderError


def semitones_to_ratio(semitones: float) -> float:
    """Pitch ratio for a shift of `semitones` (negative lowers the voice)."""
    return 2.0 ** (semitones / 12.0)


def ratio_to_semitones(ratio: float) -> float:
    return 12.0 * math.log2(ratio)


def voice_filter_args(ratio: float) -> dict[str, str]:
    """Options of ffmpeg's `rubberband` filter for a pitch shift by `ratio` (0.5-2.0, not 1)."""
    if not 0.5 <= ratio <= 2.0 or abs(ratio - 1.0) < 0.02:
        raise RenderError(f"voice pitch ratio {ratio} would not alter the voice safely (use 0.5-2.0, not ~1)")
    # formant=preserved keeps the vocal tract's resonances: a shifted, still human-sounding voice.
    # pitchq=quality: the best of rubberband's pitch-shifting modes; the filter runs once per export.
    return {"pitch": f"{ratio:.4f}", "formant": "preserved", "pitchq": "quality"}
