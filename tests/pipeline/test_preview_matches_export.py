"""Issue 13, Must show: a preview frame and the export frame at the same clip time show the same
subtitle text (OCR) and the same blurred regions (blur masks compared roughly)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.publication import ConsentSnapshot, RegistrySnapshot, Target, VersionData, build_plan
from pipeline.records import Cue
from pipeline.render.profiles import RenderOptions
from pipeline.render.render_export import PreviewOptions, render_export, render_preview
from pipeline.render.subs import SubtitleTrack
from tests.conftest import shared_media_file
from tests.pipeline.render_support import KEY, TALKING_HEAD, authorisation, frames_at, ocr

pytestmark = pytest.mark.slow

EN = SubtitleTrack("en", (Cue(0.2, 4.5, ("Leaving was the hardest", "thing I ever did")),))
AT = 2.0  # clip seconds


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from pipeline.atomic import file_sha256

    base = tmp_path_factory.mktemp("pvx")
    source = base / "source.mp4"
    shutil.copy(shared_media_file(TALKING_HEAD), source)
    version = VersionData(candidate_id=1, version=1, source_sha256=file_sha256(source), source_fps=25.0,
                          start=0.0, end=5.0, tracks=(EN,), options=RenderOptions(preset="ultrafast", crf=23))
    # No face consent: faces are blurred in the export and so in the preview.
    person = RegistrySnapshot(3, "Amal", (), (), ConsentSnapshot(face=False, voice=True, languages=("en",),
                                                                 platforms=("web",)))
    plan = build_plan(version, person, Target("master", "en", "web"), key=KEY)
    assert plan.blur_faces
    export = render_export(plan, authorisation(plan=plan, shows_face=False), KEY, source, base / "exports")
    preview = render_preview(plan, source, base / "previews" / "p.mp4",
                             options=PreviewOptions(max_height=288))
    return source, export, preview


def _mask(frame, reference, size):
    """Where the frame differs from the untouched source (the blurred regions), on a coarse grid,
    subtitle band excluded."""
    import numpy as np
    from PIL import Image

    def small(rgb):
        return np.asarray(Image.fromarray(rgb).convert("L").resize(size, Image.BILINEAR), dtype=np.int16)

    diff = np.abs(small(frame) - small(reference))
    rows = int(size[1] * 0.7)
    return diff[:rows] > 12


def test_same_subtitle_text_at_the_same_clip_time(rendered):
    from difflib import SequenceMatcher

    _source, export, preview = rendered
    (shown,) = frames_at(export.video, [AT])
    (previewed,) = frames_at(preview.video, [AT])
    a = "".join(c for c in ocr(shown).lower() if c.isalpha())
    b = "".join(c for c in ocr(previewed).lower() if c.isalpha())
    assert "hardest" in a and "hardest" in b, (a, b)
    assert SequenceMatcher(None, a, b).ratio() >= 0.8, (a, b)


def test_same_blurred_regions_at_the_same_clip_time(rendered):
    source, export, preview = rendered
    (original,) = frames_at(source, [AT])
    (shown,) = frames_at(export.video, [AT])
    (previewed,) = frames_at(preview.video, [AT])
    size = (48, 48)
    m_export = _mask(shown, original, size)
    m_preview = _mask(previewed, original, size)
    assert m_export.sum() > 40 and m_preview.sum() > 40  # a face really is blurred in both
    iou = (m_export & m_preview).sum() / max(1, (m_export | m_preview).sum())
    assert iou >= 0.6, iou
