"""Subtitle files: SRT, WebVTT and ASS, written directly so that escaping stays under our control.

Speech is shown as said: text that looks like markup (`{\\pos(1,1)}`, `<b>`, `-->`, `&amp;`) must
come out literally on screen. Per format:

- ASS (burned in by libass): `{` and `}` become libass's own escapes `\\{` and `\\}`. libass has no
  escape for a backslash, so a backslash that would start `\\N`, `\\n` or `\\h` gets an invisible
  WORD JOINER (U+2060) after it; every other backslash is already literal.
- WebVTT: `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;` (the spec's own escapes), so `-->`
  can never appear in a payload. A backslash before N/n/h gets the word joiner too, because
  ffmpeg hands WebVTT text to libass.
- SRT has no escape mechanism at all. A word joiner after `<` (before a tag name or `/`), after
  `{`, inside `-->` and between a backslash and N/n/h stops HTML-tag, `{\\an8}`-style, timing-line
  and libass sequence parsers without changing what a viewer sees. Burn the ASS, not the SRT.

Right-to-left lines (mostly Arabic or Hebrew letters) that begin with a left-to-right word get a
RIGHT-TO-LEFT MARK so that players pick a right-to-left paragraph direction; text is never
reversed, the renderer's bidi and shaping do that.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.errors import SubtitleError
from pipeline.records import Cue

WORD_JOINER = "\u2060"
RLM = "\u200f"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\r\n\t]")
_LIBASS_SEQ = re.compile(r"\\(?=[Nnh])")
_TIMESTAMP_LIKE = re.compile(r"\d+:\d+:\d+[.,]\d+")


@dataclass(frozen=True, slots=True)
class AssStyle:
    """How burned-in subtitles look; the renderer sets one per output profile.

    Sizes are in script pixels of a PlayResX x PlayResY canvas that libass scales to the video.
    font_size 54 on 1080 lines is about 5 % of the picture height, the usual broadcast size;
    margins keep text inside the title-safe area. alignment is the numpad position (2: bottom
    centre). outline and shadow are in script pixels. rtl: True forces right-to-left lines, False
    left-to-right, None decides per line from its letters. wrap_style 0 lets libass wrap a line
    that would still not fit the frame (a safety net: cues are already wrapped to 42 characters).
    """

    font_name: str = "DejaVu Sans"
    font_size: int = 54
    play_res_x: int = 1920
    play_res_y: int = 1080
    margin_l: int = 120
    margin_r: int = 120
    margin_v: int = 60
    alignment: int = 2
    outline: float = 3.0
    shadow: float = 1.0
    bold: bool = False
    primary_colour: str = "&H00FFFFFF"  # ASS colours are &HAABBGGRR
    outline_colour: str = "&H00000000"
    back_colour: str = "&H80000000"
    rtl: bool | None = None
    wrap_style: int = 0


# ---------------------------------------------------------------------------------------------
# Text helpers


def _clean(line: str) -> str:
    # Control characters (stray CR/LF/tab from a backend) would break a line-based format.
    return " ".join(_CONTROL.sub(" ", line).split())


def _strong_direction(ch: str) -> str | None:
    bidi = unicodedata.bidirectional(ch)
    if bidi in ("R", "AL"):
        return "rtl"
    if bidi == "L":
        return "ltr"
    return None


def is_rtl(text: str) -> bool:
    """True when most strong letters of `text` are right-to-left (Arabic, Hebrew, Syriac...)."""
    dirs = [d for d in map(_strong_direction, text) if d]
    return bool(dirs) and dirs.count("rtl") * 2 > len(dirs)


def _directional(line: str, rtl: bool | None) -> str:
    """Prefix an RLM when a right-to-left line would otherwise start left-to-right."""
    want_rtl = is_rtl(line) if rtl is None else rtl
    if not want_rtl:
        return line
    first = next((d for d in map(_strong_direction, line) if d), None)
    return line if first == "rtl" else RLM + line


def escape_ass(line: str) -> str:
    """One line of speech as literal ASS text for libass."""
    line = _clean(line).replace("{", "\\{").replace("}", "\\}")
    return _LIBASS_SEQ.sub("\\\\" + WORD_JOINER, line)


def unescape_ass(text: str) -> str:
    """Inverse of escape_ass over `\\N`-joined lines: what libass displays, as plain text."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            out.append(text[i + 1])
            i += 2
        elif ch == "\\" and i + 1 < len(text) and text[i + 1] == "N":
            out.append("\n")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out).replace(WORD_JOINER, "").replace(RLM, "")


def escape_vtt(line: str) -> str:
    """One line of speech as a literal WebVTT cue payload line."""
    line = _clean(line).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _break_timestamps(_LIBASS_SEQ.sub("\\\\" + WORD_JOINER, line))


def _break_timestamps(line: str) -> str:
    # Parsers such as pysubs2 take any line holding two timestamps for a timing line.
    return _TIMESTAMP_LIKE.sub(lambda m: m.group(0).replace(":", ":" + WORD_JOINER), line)


def escape_srt(line: str) -> str:
    """One line of speech with every markup trigger broken by an invisible word joiner.

    After `<` before a tag name, `&` before an entity name, `{`, a backslash before a letter or
    brace (so libass-based players neither apply `{\\pos..}` nor `\\N`), inside `-->`, and after
    the colons of anything that looks like a timestamp.
    """
    line = _clean(line)
    line = re.sub(r"<(?=[A-Za-z/!?])", "<" + WORD_JOINER, line)
    line = re.sub(r"&(?=[#A-Za-z])", "&" + WORD_JOINER, line)
    line = line.replace("{", "{" + WORD_JOINER)
    line = re.sub(r"\\(?=[A-Za-z{}])", "\\\\" + WORD_JOINER, line)
    line = line.replace("-->", "--" + WORD_JOINER + ">")
    return _break_timestamps(line)


def _lines(cue: Cue) -> list[str]:
    lines = [_clean(line) for line in cue.lines]
    lines = [line for line in lines if line]
    if not lines:
        raise SubtitleError(f"cue at {cue.start:.3f} s has no text")
    if not cue.end > cue.start >= 0:
        raise SubtitleError(f"cue at {cue.start:.3f} s has an invalid time span")
    return lines


# ---------------------------------------------------------------------------------------------
# Time formats (the only place seconds become strings)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def srt_time(seconds: float) -> str:
    ms = _ms(seconds)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def vtt_time(seconds: float) -> str:
    return srt_time(seconds).replace(",", ".")


def ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    return f"{cs // 360_000:d}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


# ---------------------------------------------------------------------------------------------
# Formats


def format_srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, lines, a blank line."""
    blocks = []
    for n, cue in enumerate(cues, 1):
        lines = [escape_srt(_directional(line, None)) for line in _lines(cue)]
        blocks.append(f"{n}\n{srt_time(cue.start)} --> {srt_time(cue.end)}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def format_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: the `WEBVTT` header, then cues with `HH:MM:SS.mmm` times."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        lines = [escape_vtt(_directional(line, None)) for line in _lines(cue)]
        blocks.append(f"{vtt_time(cue.start)} --> {vtt_time(cue.end)}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def format_ass(cues: Sequence[Cue], style: AssStyle = AssStyle()) -> str:
    """Advanced SubStation Alpha text for libass, one `Default` style from `style`."""
    rtl_any = style.rtl is True or (style.rtl is None and any(is_rtl(c.text) for c in cues))
    # Encoding -1 makes libass pick each paragraph's direction from its text instead of forcing
    # left-to-right, which would put an Arabic line's final full stop on the wrong side.
    encoding = -1 if rtl_any else 1
    bold = -1 if style.bold else 0
    header = (
        "[Script Info]\n"
        "; Written by counterclips\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {style.play_res_x}\n"
        f"PlayResY: {style.play_res_y}\n"
        f"WrapStyle: {style.wrap_style}\n"
        "ScaledBorderAndShadow: yes\n"
        "YCbCr Matrix: TV.709\n"
        "\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Default,{_style_name(style.font_name)},{style.font_size},{style.primary_colour},"
        f"&H000000FF,{style.outline_colour},{style.back_colour},{bold},0,0,0,100,100,0,0,1,"
        f"{style.outline:g},{style.shadow:g},{style.alignment},{style.margin_l},{style.margin_r},"
        f"{style.margin_v},{encoding}\n"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    events = []
    for cue in cues:
        text = "\\N".join(escape_ass(_directional(line, style.rtl)) for line in _lines(cue))
        events.append(f"Dialogue: 0,{ass_time(cue.start)},{ass_time(cue.end)},Default,,0,0,0,,{text}\n")
    return header + "".join(events)


def _style_name(name: str) -> str:
    # A comma would shift every following style field.
    cleaned = _clean(name).replace(",", " ")
    if not cleaned:
        raise SubtitleError("ASS style needs a font name")
    return cleaned


FORMATTERS = {".srt": format_srt, ".vtt": format_vtt, ".ass": format_ass}


def write_subtitles(cues: Sequence[Cue], path: str | os.PathLike[str], style: AssStyle | None = None) -> Path:
    """Write cues to `path` in the format its suffix names (.srt, .vtt, .ass), atomically.

    The text goes to a temporary file in the same directory, is flushed to disk and renamed
    over `path`, so a reader never sees a half-written file. `style` applies to .ass only.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATTERS:
        raise SubtitleError(f"{path.name}: unknown subtitle format {suffix!r} (use .srt, .vtt or .ass)")
    text = format_ass(cues, style or AssStyle()) if suffix == ".ass" else FORMATTERS[suffix](cues)
    # utf-8-sig for ASS: some Windows tools guess the encoding without a BOM; libass and
    # pysubs2 accept it. SRT and VTT stay plain UTF-8 (a BOM is allowed but not needed).
    encoding = "utf-8-sig" if suffix == ".ass" else "utf-8"
    return write_text_atomic(path, text, encoding=encoding)


# ---------------------------------------------------------------------------------------------
# Parsing (for tests and round trips)

_TIMING = re.compile(
    r"^(\d+):(\d{2}):(\d{2})[,.](\d{3})\s+-->\s+(\d+):(\d{2}):(\d{2})[,.](\d{3})(?:\s.*)?$"
)


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    # Sum whole milliseconds first so that "00:00:03,280" reads back as exactly 3.28.
    return (int(h) * 3_600_000 + int(m) * 60_000 + int(s) * 1000 + int(ms)) / 1000


def _parse_blocks(text: str, header: str | None) -> list[Cue]:
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    blocks = re.split(r"\n\s*\n", text.strip())
    if header is not None:
        if not blocks or not blocks[0].startswith(header):
            raise SubtitleError(f"not a {header} file: first line must start with {header}")
        blocks = blocks[1:]
    cues = []
    for block in blocks:
        lines = block.split("\n")
        idx = next((i for i, line in enumerate(lines) if _TIMING.match(line.strip())), None)
        if idx is None:
            if header is not None and lines[0].startswith(("NOTE", "STYLE", "REGION")):
                continue
            raise SubtitleError(f"subtitle block without a timing line: {lines[0][:40]!r}")
        m = _TIMING.match(lines[idx].strip())
        assert m is not None
        start, end = _seconds(*m.groups()[:4]), _seconds(*m.groups()[4:])
        cues.append(Cue(start, end, tuple(lines[idx + 1 :])))
    return cues


def parse_srt(text: str) -> list[Cue]:
    """Cues of an SRT text; lines are returned raw (escapes kept)."""
    return _parse_blocks(text, None)


def parse_vtt(text: str) -> list[Cue]:
    """Cues of a WebVTT text with entities decoded, so lines read as the viewer sees them."""
    import html

    cues = _parse_blocks(text, "WEBVTT")
    return [Cue(c.start, c.end, tuple(html.unescape(line) for line in c.lines)) for c in cues]
