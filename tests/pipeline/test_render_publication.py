"""Real renders from publication plans: the burned frames read the replacement and never the name;
no output file carries any variant of it (file name, notes and text all held it); a preview of the
same plan shows the same subtitle text at the same clip time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.publication import ConsentSnapshot, RegistrySnapshot, Target, VersionData, build_plan
from pipeline.records import Cue
from pipeline.render.manifest import scan_for_terms
from pipeline.render.profiles import RenderOptions
from pipeline.render.render_export import PreviewOptions, render_export, render_preview
from pipeline.render.subs import SubtitleTrack
from pipeline.terms import IdentifyingWord
from tests.conftest import shared_media_file
from tests.pipeline.render_support import KEY, TALKING_HEAD, authorisation, frames_at, make_wide_source, ocr

pytestmark = pytest.mark.slow

NAME = "Yusuf Darwish"
# The name as an editor's text might carry it: accents, a soft hyphen, split over two lines.
EN = SubtitleTrack("en", (Cue(0.2, 2.8, ("My cousin Yúsuf", "Dar\u00adwish paid")),))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("pub")
    wide = make_wide_source(shared_media_file(TALKING_HEAD), base / "wide.mp4")
    source = base / "interview_Yusuf_Darwish_full.mp4"  # the name in the file name, too
    shutil.copy(wide, source)
    from pipeline.atomic import file_sha256

    version = VersionData(candidate_id=1, version=1, source_sha256=file_sha256(source), source_fps=25.0,
                          start=0.0, end=3.0, tracks=(EN,),
                          options=RenderOptions(preset="ultrafast", crf=28))
    person = RegistrySnapshot(7, "Witness K", ("Karim Haddad",),
                              (IdentifyingWord.parse(f"{NAME}=his cousin"),),
                              ConsentSnapshot(face=True, voice=True, languages=("en",), platforms=("web",)))
    plan = build_plan(version, person, Target("master", "en", "web"), key=KEY)
    provenance = {"approvals": ({"reviewer": "rita", "notes": f"ok, {NAME} is hidden"},),
                  "audit": ({"who": "sam", "action": "approve", "comment": NAME},)}
    result = render_export(plan, authorisation(plan=plan), KEY, source, base / "exports",
                           provenance=provenance)
    preview = render_preview(plan, source, base / "previews" / "c1.mp4",
                             options=PreviewOptions(max_height=288))
    return plan, result, preview


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def test_burned_frame_reads_the_replacement_not_the_name(setup):
    _plan, result, _preview = setup
    (frame,) = frames_at(result.video, [1.5])
    read = ocr(frame)
    low = read.lower()
    assert "cousin" in low and "his" in low, read
    assert "yusuf" not in low and "darwish" not in low and "witness" not in low, read


def test_no_output_carries_any_variant_of_the_name(setup):
    _plan, result, _preview = setup
    srt = next(p for p in result.sidecars if p.suffix == ".srt").read_text()
    assert "his cousin" in " ".join(srt.split())
    findings = scan_for_terms([result.directory], [NAME, "Yusuf", "Darwish", "Karim Haddad"])
    assert findings == [], findings


def test_preview_shows_the_same_subtitles_at_the_same_clip_time(setup):
    _plan, result, preview = setup
    assert preview.height == 288 and preview.plan_hash == result.plan_hash
    (shown,) = frames_at(result.video, [1.5])
    (previewed,) = frames_at(preview.video, [1.5])
    from difflib import SequenceMatcher

    exported, seen = _letters(ocr(shown)), _letters(ocr(previewed))
    assert "hiscousin" in exported and "cousin" in seen, (exported, seen)
    # Tesseract slips a letter or two on the smaller frame; the text is the same.
    assert SequenceMatcher(None, exported, seen).ratio() >= 0.8, (exported, seen)


def test_preview_is_never_written_into_exports(setup, tmp_path):
    from pipeline.errors import RenderError

    plan, _result, _preview = setup
    with pytest.raises(RenderError, match="exports"):
        render_preview(plan, Path("/nonexistent.mp4"), tmp_path / "exports" / "p.mp4")
