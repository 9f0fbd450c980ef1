"""SRT, WebVTT and ASS writers: structure, round trips, literal markup, RTL, atomic writes."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pysubs2
import pytest

from pipeline.errors import SubtitleError
from pipeline.records import Cue
from pipeline.subtitles import (
    RLM,
    AssStyle,
    format_ass,
    format_srt,
    format_vtt,
    parse_srt,
    parse_vtt,
    unescape_ass,
    write_subtitles,
)

MARKUP_LINES = (
    r"Say {\pos(1,1)} and <b>bold</b>",
    r"A --> B &amp; C:\new\hat \N",
)
PLAIN = [
    Cue(1.5, 3.2, ("When I joined the group I believed", "that they were fighting for justice,")),
    Cue(3.28, 4.5, ("Nobody could leave.",)),
    Cue(3725.04, 3727.0, ("An hour later.",)),
]


def visible(text: str) -> str:
    """What a viewer sees: invisible joiners and direction marks removed."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


# --- SRT -------------------------------------------------------------------------------------


def test_srt_structure_and_times():
    text = format_srt(PLAIN)
    assert text.startswith("1\n00:00:01,500 --> 00:00:03,200\nWhen I joined")
    assert "\n\n3\n01:02:05,040 --> 01:02:07,000\nAn hour later.\n" in text
    assert [c.lines for c in parse_srt(text)] == [c.lines for c in PLAIN]


def test_srt_round_trips_through_pysubs2():
    subs = pysubs2.SSAFile.from_string(format_srt(PLAIN))
    assert [(e.start, e.end) for e in subs] == [(1500, 3200), (3280, 4500), (3725040, 3727000)]
    assert [e.plaintext for e in subs] == [c.text for c in PLAIN]


def test_srt_markup_cannot_be_parsed_as_tags_or_timing():
    cues = [Cue(0.0, 2.0, MARKUP_LINES), Cue(2.08, 3.0, ("00:00:01,000 --> 00:00:02,000",))]
    text = format_srt(cues)
    body = [line for line in text.split("\n") if line and not line.isdigit()]
    timing = [line for line in body if re.fullmatch(r"[\d:,]+ --> [\d:,]+", line)]
    assert len(timing) == 2  # the spoken "timestamp" is not a timing line
    assert "-->" not in "".join(line for line in body if line not in timing)
    assert not re.search(r"<\s*/?\s*[A-Za-z]", text)  # no tag a parser would recognise
    assert "{\\" not in text  # no {\an8}-style override a player would apply
    subs = pysubs2.SSAFile.from_string(text)
    assert len(subs) == 2  # pysubs2 finds exactly the two real cues
    assert "{\\b1}" not in subs[0].text  # <b> was not turned into bold
    assert [visible(line) for c in parse_srt(text) for line in c.lines] == [*MARKUP_LINES, cues[1].lines[0]]


# --- WebVTT ----------------------------------------------------------------------------------

_VTT_TIMING = re.compile(r"^\d{2,}:\d{2}:\d{2}\.\d{3} --> \d{2,}:\d{2}:\d{2}\.\d{3}$")


def assert_valid_webvtt(text: str) -> None:
    """The parts of the WebVTT syntax a writer can get wrong."""
    assert text.startswith("WEBVTT\n")
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    for block in blocks[1:]:
        lines = block.split("\n")
        assert _VTT_TIMING.match(lines[0]), lines[0]
        assert len(lines) >= 2
        for line in lines[1:]:
            assert line.strip()  # a blank line would end the cue early
            assert "-->" not in line
            assert "<" not in line and ">" not in line
            # Every & starts a character reference.
            refs = (re.match(r"&(amp|lt|gt|nbsp|lrm|rlm);", line[m.start():]) for m in re.finditer("&", line))
            assert all(refs)


def test_vtt_structure_validity_and_round_trip():
    text = format_vtt(PLAIN)
    assert_valid_webvtt(text)
    assert "00:00:01.500 --> 00:00:03.200" in text
    assert [(c.start, c.end, c.lines) for c in parse_vtt(text)] == [(c.start, c.end, c.lines) for c in PLAIN]
    subs = pysubs2.SSAFile.from_string(text)
    assert [(e.start, e.end) for e in subs] == [(1500, 3200), (3280, 4500), (3725040, 3727000)]


def test_vtt_escapes_markup_as_entities():
    text = format_vtt([Cue(0.0, 2.0, MARKUP_LINES), Cue(2.5, 3.0, ("00:00:01.000 --> 00:00:02.000",))])
    assert_valid_webvtt(text)
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "--&gt; B &amp;amp; C:" in text
    assert len(pysubs2.SSAFile.from_string(text)) == 2
    assert [visible(line) for c in parse_vtt(text)[:1] for line in c.lines] == list(MARKUP_LINES)
    # html.unescape is what a browser's cue text parser does with these references.
    assert visible(html.unescape(text.split("\n")[3])) == MARKUP_LINES[0]


# --- ASS -------------------------------------------------------------------------------------


def test_ass_carries_the_style_and_round_trips_through_pysubs2():
    style = AssStyle(font_name="Liberation Sans", font_size=40, play_res_x=1280, play_res_y=720,
                     margin_l=30, margin_r=40, margin_v=50, alignment=8, outline=2.5, bold=True)
    subs = pysubs2.SSAFile.from_string(format_ass(PLAIN, style))
    assert subs.info["PlayResX"] == "1280" and subs.info["PlayResY"] == "720"
    s = subs.styles["Default"]
    assert (s.fontname, s.fontsize, s.bold, s.outline) == ("Liberation Sans", 40, True, 2.5)
    assert (s.marginl, s.marginr, s.marginv, s.alignment) == (30, 40, 50, 8)
    assert [(e.start, e.end) for e in subs] == [(1500, 3200), (3280, 4500), (3725040, 3727000)]
    assert [e.plaintext for e in subs] == [c.text for c in PLAIN]


def test_ass_escapes_braces_and_backslash_sequences():
    text = format_ass([Cue(0.0, 2.0, MARKUP_LINES)])
    (event,) = pysubs2.SSAFile.from_string(text)
    assert r"\{\pos(1,1)\}" in event.text
    assert "{\\" not in event.text.replace("\\{\\", "")  # no unescaped override block
    assert re.search(r"\\[Nnh]", event.text.replace("\\N", "", 1)) is None  # only our line break
    assert unescape_ass(event.text) == "\n".join(MARKUP_LINES)


def test_rtl_lines_keep_logical_order_and_get_a_direction():
    arabic = ("لم يكن أحد يستطيع المغادرة.", "Facebook كان المكان الأول.")
    cue = Cue(0.0, 2.0, arabic)
    ass = format_ass([cue])
    assert ass.split("Style: Default,")[1].split("\n")[0].endswith(",-1")  # libass: auto direction
    event = ass.strip().split("\n")[-1]
    assert event.endswith(arabic[0] + "\\N" + RLM + arabic[1])  # not reversed; RLM where needed
    for text in (format_srt([cue]), format_vtt([cue])):
        assert arabic[0] in text and RLM + arabic[1] in text
    # Left-to-right text gets no marks and keeps Encoding 1.
    plain_ass = format_ass(PLAIN)
    assert RLM not in plain_ass and plain_ass.split("\nStyle: ")[1].split("\n")[0].endswith(",1")
    assert format_ass([cue], AssStyle(rtl=True)).count(RLM) == 1


# --- writing ---------------------------------------------------------------------------------


def test_write_subtitles_picks_the_format_by_suffix_and_writes_atomically(tmp_path: Path):
    for suffix, first in ((".srt", "1\n"), (".vtt", "WEBVTT\n"), (".ASS", "[Script Info]\n")):
        path = tmp_path / "out" / f"clip{suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_text("old content")
        assert write_subtitles(PLAIN, path) == path
        assert path.read_text(encoding="utf-8-sig").startswith(first)
        assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.ASS", "clip.srt", "clip.vtt"]
    with pytest.raises(SubtitleError, match="unknown subtitle format"):
        write_subtitles(PLAIN, tmp_path / "clip.txt")


def test_bad_cues_are_refused():
    with pytest.raises(SubtitleError):
        format_srt([Cue(2.0, 1.0, ("backwards",))])
    with pytest.raises(SubtitleError):
        format_vtt([Cue(0.0, 1.0, ("  ",))])


def test_control_characters_never_break_the_file():
    text = format_vtt([Cue(0.0, 1.0, ("one\ntwo\r\n\nthree\tfour",))])
    assert_valid_webvtt(text)
    assert "one two three four" in text


# --- the real renderer -----------------------------------------------------------------------


def _burn_and_read(ass: Path, tmp_path: Path, lang: str) -> str:
    import imageio_ffmpeg

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    png = tmp_path / "frame.png"
    # filename=... inside the filter graph: the path must be quoted for ffmpeg's filter syntax.
    graph = f"subtitles=filename='{ass.as_posix()}'"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi",
         "-i", "color=c=white:s=1280x720:d=1", "-vf", graph, "-frames:v", "1", str(png)],
        check=True, timeout=60,
    )
    ocr = subprocess.run(["tesseract", str(png), "-", "--psm", "6", "-l", lang],
                         check=True, capture_output=True, text=True, timeout=60)
    return "\n".join(visible(line).strip() for line in ocr.stdout.splitlines() if line.strip())


# Black text without outline on white: what tesseract reads best.
OCR_STYLE = AssStyle(play_res_x=1280, play_res_y=720, font_size=44, outline=0, shadow=0,
                     primary_colour="&H00000000")


@pytest.mark.slow
def test_libass_burn_shows_markup_literally(tmp_path: Path):
    ass = write_subtitles([Cue(0.0, 2.0, MARKUP_LINES)], tmp_path / "markup.ass", OCR_STYLE)
    assert _burn_and_read(ass, tmp_path, "eng").split("\n") == list(MARKUP_LINES)


@pytest.mark.slow
def test_libass_burn_shapes_arabic_right_to_left(tmp_path: Path):
    arabic = ("لم يكن أحد يستطيع المغادرة.", "Facebook كان المكان الأول.")
    ass = write_subtitles([Cue(0.0, 2.0, arabic)], tmp_path / "ar.ass", OCR_STYLE)
    lines = _burn_and_read(ass, tmp_path, "ara+eng").split("\n")
    # Rendered left-to-right the full stops would come first and "Facebook" last.
    assert lines[0].endswith("المغادرة.") and lines[1].startswith("Facebook")
    assert lines[1].endswith("الأول.")
