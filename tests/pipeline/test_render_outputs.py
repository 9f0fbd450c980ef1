"""Real renders of a real talking-head video: streams, durations, sizes per profile, burned text read
back with Tesseract (English and Arabic), loudness, sidecars and the manifest."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.records import Cue
from pipeline.render.cards import end_card, title_card
from pipeline.render.files import probe_output, sha256_of
from pipeline.render.loudness import measure_loudness
from pipeline.render.subs import SubtitleTrack
from tests.conftest import shared_media_file
from tests.pipeline.render_support import (
    TALKING_HEAD,
    export,
    frames_at,
    make_wide_source,
    ocr,
    request,
)

pytestmark = pytest.mark.slow

EN = SubtitleTrack("en", (
    Cue(0.6, 2.3, ("Leaving was the", "hardest thing")),
    # Markup must come out literally: libass would otherwise hide {\i1} and italicise.
    Cue(2.4, 3.5, ("{\\i1}NEVER again",)),
))
AR = SubtitleTrack("ar", (Cue(0.6, 2.4, ("تركت الجماعة",)),))


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Path:
    return make_wide_source(shared_media_file(TALKING_HEAD), tmp_path_factory.mktemp("src") / "wide.mp4")


@pytest.fixture(scope="module")
def master(wide, tmp_path_factory):
    """Master profile with title and end cards, English burned, voice altered."""
    out = tmp_path_factory.mktemp("master")
    req = request(wide, out, language="en", subtitles=(EN, AR), alter_voice=True,
                  title_card=title_card("Amal", "Syria", 2019, 1.0), end_card=end_card("counterclips", 1.0))
    seen: list[float] = []
    result = export(req, progress=seen.append)
    return req, result, seen


@pytest.fixture(scope="module")
def vertical(wide, tmp_path_factory):
    """Vertical (1080x1920) with Arabic burned; a 2-second cut keeps the big frame cheap."""
    out = tmp_path_factory.mktemp("vertical")
    req = request(wide, out, profile="vertical", language="ar", subtitles=(EN, AR), start=0.5, end=2.5)
    return req, export(req)


def _frame_seconds(fps: float) -> float:
    return 1.0 / fps


def test_master_streams_duration_and_size(master):
    req, result, seen = master
    info = probe_output(result.video)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (640, 360)  # source size: master never upscales
    assert (info.sample_rate, info.channels) == (48000, 2)
    expected = (req.end - req.start) + 1.0 + 1.0  # clip plus both cards
    assert abs(info.video_duration - expected) <= _frame_seconds(info.fps) + 1e-3
    assert result.sha256 == sha256_of(result.video)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    # Fast start: the moov atom precedes the media data.
    head = result.video.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))


def test_vertical_and_square_sizes(vertical, wide, tmp_path):
    _req, result = vertical
    info = probe_output(result.video)
    assert (info.width, info.height) == (1080, 1920)
    assert abs(info.video_duration - 2.0) <= _frame_seconds(info.fps) + 1e-3
    req = request(wide, tmp_path, profile="square", start=1.0, end=2.0)
    square = export(req)
    sq = probe_output(square.video)
    assert (sq.width, sq.height) == (360, 360)  # square crop, never upscaled past the source height
    assert abs(sq.video_duration - 1.0) <= _frame_seconds(sq.fps) + 1e-3


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]+", text)}


def test_burned_english_reads_back_with_tesseract(master):
    _req, result, _ = master
    # Clip starts after the 1 s title card: cue 1 at 1.1-2.8 s, cue 2 at 2.9-4.0 s of the file.
    first, second = frames_at(result.video, [1.8, 3.2])
    assert {"leaving", "hardest", "thing"} <= _words(ocr(first))
    text = ocr(second)
    assert "never" in text.lower() and "again" in _words(text), text
    # The ASS override {\i1} was shown as text, not applied: its braces are on screen.
    assert "{" in text or "}" in text, text


def _arabic_letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if "\u0621" <= c <= "\u064a")


def test_burned_arabic_reads_back_with_tesseract(vertical, artifacts_dir):
    from PIL import Image

    _req, result = vertical
    (frame,) = frames_at(result.video, [1.0])
    Image.fromarray(frame).save(artifacts_dir / "render-vertical-arabic.png")  # for a person to look at
    read = _arabic_letters(ocr(frame, lang="ara", bottom=0.25))
    for word in ("تركت", "الجماعة"):
        assert _found(_arabic_letters(word), read), read


def _found(word: str, text: str, at_least: float = 0.8) -> bool:
    """`word` in `text`, allowing OCR one slip in a long word (similarity of a same-size window)."""
    from difflib import SequenceMatcher

    if word in text:
        return True
    sizes = (len(word) - 1, len(word), len(word) + 1)
    return any(SequenceMatcher(None, word, text[i:i + n]).ratio() >= at_least
               for n in sizes for i in range(max(1, len(text) - n + 1)))


def test_loudness_within_one_lu_of_target(master, vertical):
    _req, result, _ = master
    assert abs(measure_loudness(str(result.video), start=1.0, duration=3.0).input_i - (-23.0)) <= 1.0
    _req, result = vertical
    assert abs(measure_loudness(str(result.video)).input_i - (-14.0)) <= 1.0


def test_sidecars_parse_keep_limits_and_are_timed_from_clip_start(master):
    import pysubs2

    from pipeline.cues import check_cue_limits

    req, result, _ = master
    names = sorted(p.name for p in result.sidecars)
    assert names == [f"{req.stem}.ar.srt", f"{req.stem}.ar.vtt", f"{req.stem}.en.srt", f"{req.stem}.en.vtt"]
    for path in result.sidecars:
        subs = pysubs2.load(str(path))
        assert len(subs) >= 1
        # Source cue 0.6 s, cut at 0.5 s, after a 1 s title card: 1.1 s into the file.
        assert subs[0].start == 1100
        cues = [Cue(e.start / 1000, e.end / 1000, tuple(e.plaintext.split("\n"))) for e in subs]
        assert check_cue_limits(cues) == []
    srt = (result.directory / f"{req.stem}.en.srt").read_text()
    assert "{" in srt and "NEVER" in srt  # literal text kept (markup neutralised, not dropped)


def test_manifest_records_provenance(master):
    req, result, _ = master
    m = json.loads(result.manifest.read_text())
    assert m["source"]["sha256"] == req.source_sha256
    assert (m["source"]["in"], m["source"]["out"]) == (req.start, req.end)
    assert m["output"]["sha256"] == result.sha256 == sha256_of(result.video)
    assert set(m["subtitles"]) == {"en", "ar"} and m["subtitles"]["en"]["burned"] is True
    assert len(m["subtitles"]["en"]["text_sha256"]) == 64
    assert m["authorisation"]["plan_hash"] == m["candidate"]["plan_hash"] == result.plan_hash
    assert m["source"]["id"].startswith("source-") and "file" not in m["source"]
    assert [a["reviewer"] for a in m["approvals"]] == ["rita", "sam"]
    assert m["audit"][0]["action"] == "approve"
    assert m["transcript"]["model"] == "base"
    assert m["consent"]["face"] is True and m["consent"]["voice"] is False  # as requested
    assert m["consent"]["name"] is False
    assert m["identity_protection"]["voice_altered"] is True
    assert m["render"]["loudness_target_lufs"] == -23.0
    assert m["render"]["options"]["profile"] == "master"
    assert {s["file"] for s in m["sidecars"]} == {p.name for p in result.sidecars}


def test_rerender_replaces_atomically_and_leaves_no_temporary_files(wide, tmp_path):
    req = request(wide, tmp_path, start=1.0, end=2.0)
    first = export(req)
    second = export(replace(req))
    assert first.video == second.video and second.video.exists()
    leftovers = [p.name for p in first.directory.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_output_folder_with_filtergraph_characters(wide, tmp_path):
    out = tmp_path / "my exports: 'final', [v2]; ok"
    req = request(wide, out, start=1.0, end=2.0, language="en", subtitles=(EN,))
    result = export(req)
    assert result.video.is_file() and out in result.video.parents


def test_relative_output_folder_with_a_leading_dash(wide, tmp_path, monkeypatch):
    # `counterclips export --out "-drafts ü"` from the folder the user is in: ffmpeg must not
    # read the output path as an option.
    monkeypatch.chdir(tmp_path)
    req = request(wide, Path("-drafts 'q' ü"), start=1.0, end=2.0, language="en", subtitles=(EN,))
    result = export(req)
    assert result.video.is_file() and (tmp_path / "-drafts 'q' ü") in result.video.parents
    assert result.video.is_absolute()
