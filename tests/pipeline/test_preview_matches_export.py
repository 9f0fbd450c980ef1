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


def _plan(source):
    from pipeline.atomic import file_sha256

    version = VersionData(candidate_id=1, version=1, source_sha256=file_sha256(source), source_fps=25.0,
                          start=0.0, end=5.0, tracks=(EN,), options=RenderOptions(preset="ultrafast", crf=23))
    # No face consent: faces are blurred in the export and so in the preview.
    person = RegistrySnapshot(3, "Amal", (), (), ConsentSnapshot(face=False, voice=True, languages=("en",),
                                                                 platforms=("web",)))
    return build_plan(version, person, Target("master", "en", "web"), key=KEY)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("pvx")
    source = base / "source.mp4"
    shutil.copy(shared_media_file(TALKING_HEAD), source)
    plan = _plan(source)
    assert plan.blur_faces
    export = render_export(plan, authorisation(plan=plan, shows_face=False), KEY, source, base / "exports")
    preview = render_preview(plan, source, base / "previews" / "p.mp4",
                             options=PreviewOptions(max_height=288))
    return source, export, preview


@pytest.fixture(scope="module")
def from_proxy(tmp_path_factory, rendered):
    """The same plan previewed from the interview's review proxy (issue 19: previews reuse it)."""
    from pipeline.render.proxy_encode import make_proxy

    source, export, _ = rendered
    base = tmp_path_factory.mktemp("pvp")
    proxy = make_proxy(source, base / "proxy.mp4").path
    plan = _plan(source)
    preview = render_preview(plan, source, base / "previews" / "p.mp4",
                             options=PreviewOptions(max_height=288), proxy=proxy)
    return source, export, preview, proxy, plan


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


def test_a_preview_from_the_proxy_shows_the_same_text_and_blur(from_proxy):
    from difflib import SequenceMatcher

    source, export, preview, _proxy, _plan = from_proxy
    (original,) = frames_at(source, [AT])
    (shown,) = frames_at(export.video, [AT])
    (previewed,) = frames_at(preview.video, [AT])
    a = "".join(c for c in ocr(shown).lower() if c.isalpha())
    b = "".join(c for c in ocr(previewed).lower() if c.isalpha())
    assert "hardest" in b and SequenceMatcher(None, a, b).ratio() >= 0.8, (a, b)
    m_export, m_preview = _mask(shown, original, (48, 48)), _mask(previewed, original, (48, 48))
    assert m_preview.sum() > 40
    # boxes are scaled outwards onto the proxy's frame: the preview hides at least the export's
    assert (m_export & m_preview).sum() / max(1, m_export.sum()) >= 0.8


def test_the_proxy_stands_in_only_where_it_holds_the_preview(from_proxy, tmp_path):
    import subprocess

    from pipeline.media import probe
    from pipeline.render.render_export import _base_job, _proxy_job
    from pipeline.render.run import ffmpeg_exe

    source, _export, _preview, proxy, plan = from_proxy
    info = probe(str(source))
    w, h = info.video.width, info.video.height
    base = _base_job(plan, plan.options, info, w, h, 288)
    job = _proxy_job(base, info, proxy, 288)
    assert job is not None and job.source == str(proxy.resolve()) and job.out_size == base.out_size
    # a preview taller than the proxy would be upscaled from it: the source is read instead
    assert _proxy_job(_base_job(plan, plan.options, info, w, h, 720), info, proxy, 720) is None
    # a proxy that is not this source's length (another interview's, a cut-off encode) is not used
    short = tmp_path / "short.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(proxy), "-t", "1", "-c", "copy", str(short)],
                   check=True)
    assert _proxy_job(base, info, short, 288) is None
    # an unreadable file is not used either
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert _proxy_job(base, info, broken, 288) is None
