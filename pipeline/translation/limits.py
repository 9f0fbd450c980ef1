"""Subtitle limits per language and script: line width, reading speed, direction.

Widths are display columns as `pipeline.cues.display_width` measures them (a full-width CJK
character counts 2), so "16 characters" of Chinese is 32 columns. Values follow the broadcast
rules that `pipeline.cues.CueOptions` applies to the source (2 lines, 42 columns, 17 cps target,
20 hard) for alphabetic scripts and the published per-language practice of large subtitling
style guides for the others: Chinese 16 characters and 9 cps, Japanese 13 characters and 4 cps,
Korean 16 characters and 12 cps.
This table is the package's own: `pipeline.cues.CueOptions` holds only the source defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pipeline.cues import display_width, reading_chars
from pipeline.subtitles import is_rtl

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ScriptLimits:
    """Limits for one language. max_line_columns: display columns per line; cps in characters
    per second (target is what a translator should aim for, max is the limit); rtl: the script
    runs right to left."""

    max_lines: int = 2
    max_line_columns: int = 42
    target_cps: float = 17.0
    max_cps: float = 20.0
    rtl: bool = False


_LATIN = ScriptLimits()
_RTL = ScriptLimits(rtl=True)
# Base language code (ISO 639-1, or 639-3 where no 639-1 exists) -> limits.
_TABLE: dict[str, ScriptLimits] = {
    **dict.fromkeys(("ar", "fa", "ur", "ps", "ckb", "sd", "ug", "yi", "dv"), _RTL),
    "he": ScriptLimits(target_cps=15.0, max_cps=17.0, rtl=True),  # unvocalised, dense letters
    "zh": ScriptLimits(max_line_columns=32, target_cps=7.0, max_cps=9.0),
    "ja": ScriptLimits(max_line_columns=26, target_cps=4.0, max_cps=5.0),
    "ko": ScriptLimits(max_line_columns=32, target_cps=12.0, max_cps=14.0),
    "th": ScriptLimits(max_line_columns=35, target_cps=15.0, max_cps=17.0),
    # Long agglutinative words: a little more reading time per character.
    **dict.fromkeys(("de", "fi", "hu", "tr", "uz", "ky", "kk"), ScriptLimits(target_cps=15.0, max_cps=18.0)),
}


def base_language(language: str) -> str:
    """`ar-EG` -> `ar`, `zh_Hant` -> `zh`; lower case."""
    return language.replace("_", "-").split("-")[0].strip().lower()


def limits_for(language: str) -> ScriptLimits:
    """Limits for `language` (any BCP 47 tag); alphabetic defaults for unknown languages."""
    return _TABLE.get(base_language(language), _LATIN)


def is_rtl_language(language: str) -> bool:
    """True for languages written right to left (Arabic, Persian, Urdu, Hebrew, Pashto...)."""
    return limits_for(language).rtl


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a cue or a file. line: line number in the file read (0: not from a
    file). cue_id: the source cue it concerns ("" when none)."""

    message: str
    cue_id: str = ""
    line: int = 0
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        cue = f"cue {self.cue_id}: " if self.cue_id else ""
        return f"{where}{cue}{self.message}"


def check_cue(
    text_lines: Sequence[str],
    start: float,
    end: float,
    language: str,
    *,
    cue_id: str = "",
    line: int = 0,
) -> tuple[Problem, ...]:
    """Limit problems of one translated cue shown from `start` to `end` seconds.

    Errors: too many lines, a line wider than the script allows (a single unbreakable word is
    allowed, as for source cues). Warnings: reading speed over the limit (translated cues keep
    the source timing, so a translator can only shorten), right-to-left language written without
    right-to-left letters (a wrong paste). Empty text is not a problem here: it means untranslated.
    """
    limits = limits_for(language)
    lines = [" ".join(t.split()) for t in text_lines if t.strip()]
    out: list[Problem] = []

    def add(message: str, severity: Severity = "error") -> None:
        out.append(Problem(message, cue_id, line, severity))

    if not lines:
        return ()
    if len(lines) > limits.max_lines:
        add(f"{len(lines)} lines > {limits.max_lines}")
    for n, text in enumerate(lines, 1):
        width = display_width(text)
        if width > limits.max_line_columns and len(text.split()) > 1:
            add(f"line {n} is {width} columns wide > {limits.max_line_columns} for {language}")
    duration = end - start
    if duration > 0:
        cps = reading_chars("\n".join(lines)) / duration
        if cps > limits.max_cps + 0.05:
            add(f"reading speed {cps:.1f} cps > {limits.max_cps:g} for {language}", "warning")
    if limits.rtl and not is_rtl(" ".join(lines)) and any(ch.isalpha() for ch in "".join(lines)):
        add(f"{language} is right-to-left but this text is mostly left-to-right", "warning")
    return tuple(out)


def wrap_text(text: str, language: str) -> tuple[str, ...]:
    """Lines for a translated cue's text (from an engine or memory) within the script's limits.

    Uses the source cue wrapper; text too long for the allowed lines comes back on as many
    lines as needed so that `check_cue` flags it rather than anything being cut.
    """
    from pipeline.cues import CueOptions, fill_lines
    from pipeline.sentences import UNSPACED_LANGUAGES

    limits = limits_for(language)
    base = base_language(language)
    words = list(text) if base in UNSPACED_LANGUAGES else text.split()
    words = [w for w in words if w.strip()]
    if not words:
        return ()
    options = CueOptions(max_lines=limits.max_lines, max_line_chars=limits.max_line_columns, language=base)
    return fill_lines(words, base, options)
