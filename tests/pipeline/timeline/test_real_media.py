"""Timelines over real media: probed size and rate, the referenced file's bytes, a real render."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import opentimelineio as otio
import pytest

from pipeline.atomic import file_sha256
from pipeline.errors import TimelineError
from pipeline.media import probe
from pipeline.render.run import ffmpeg_exe, run_ffmpeg
from pipeline.timeline.neutral_names import exact_rate
from pipeline.timeline.read import read_timeline
from pipeline.timeline.records import KnownMedia, MediaRef, RawSourceGrant, RenderedMedia, TimelineClip
from pipeline.timeline.write import export_timeline

MEDIA = Path("/work/shared/media")
SOURCES = ("vid_zh-en_autocut_test001.mp4", "vid_en_talkinghead_1.mp4", "vid_en_talkinghead_2.mp4")

pytestmark = pytest.mark.slow


def _clip(
    path: Path, n: int, in_s: float, out_s: float, rendered: RenderedMedia | None = None
) -> TimelineClip:
    info = probe(path)
    assert info.video is not None and info.video.fps
    return TimelineClip(
        clip_id=f"c{n}v1", candidate_id=n, version=1, source=MediaRef(str(path), info.sha256),
        fps=info.video.fps, in_s=in_s, out_s=out_s, width=info.video.width or 0,
        height=info.video.height or 0, source_duration_s=info.duration, rendered=rendered,
    )


@pytest.fixture(scope="module")
def sources() -> list[Path]:
    paths = [MEDIA / name for name in SOURCES]
    if not all(p.exists() for p in paths):
        pytest.skip("shared media absent")
    return paths


def test_selection_of_real_sources_in_every_format(sources: list[Path], tmp_path: Path) -> None:
    clips = [_clip(p, n, 1.0, 4.0) for n, p in enumerate(sources, 1)]
    grants = [RawSourceGrant(c.candidate_id, 1, c.source.sha256) for c in clips]
    for fmt in ("otio", "fcp7", "fcpxml"):
        export_timeline(clips, tmp_path, "sel", fmt, grants)
    with pytest.raises(TimelineError, match="one frame rate"):  # 23.976 and 25 fps sources
        export_timeline(clips, tmp_path, "sel", "edl", grants)
    same_rate = [clips[0], clips[1], replace(clips[0], clip_id="c3v1", candidate_id=3, in_s=5.0, out_s=7.0)]
    grants.append(RawSourceGrant(3, 1, clips[0].source.sha256))
    export_timeline(same_rate, tmp_path, "sel", "edl", grants)
    loaded = otio.adapters.read_from_file(str(tmp_path / "sel.otio"))
    for clip, item in zip(clips, loaded.video_tracks()[0].find_clips(), strict=True):
        target = Path(item.media_reference.target_url.removeprefix("file://"))
        assert file_sha256(target) == item.media_reference.metadata["counterclips"]["sha256"]
        assert file_sha256(target) == clip.source.sha256
        rate = exact_rate(clip.fps)
        assert item.source_range.start_time.rate == rate
        assert item.source_range.start_time.value == round(1.0 * rate)
    fcpxml = (tmp_path / "sel.fcpxml").read_text()
    assert 'name="FFVideoFormat1080p2398"' in fcpxml  # 1920x1080 at a probed 23.88 fps
    assert len([line for line in (tmp_path / "sel.edl").read_text().splitlines() if line[:3].isdigit()]) == 3


def test_a_real_rendered_clip_imports_back_to_source_time(sources: list[Path], tmp_path: Path) -> None:
    source = sources[0]
    out = tmp_path / "c1v1.mp4"
    run_ffmpeg([ffmpeg_exe(), "-nostdin", "-y", "-ss", "2", "-i", str(source), "-t", "3",
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(out)])
    rendered_info = probe(out)
    rendered = RenderedMedia(MediaRef(str(out), file_sha256(out)), rendered_info.duration, 0.0)
    clip = _clip(source, 1, 2.0, 5.0, rendered)
    (path, *_) = export_timeline([clip], tmp_path, "c1v1", "otio")
    known_source = KnownMedia(clip.source, probe(source).duration)
    known_render = KnownMedia(rendered.media, rendered.duration_s, to_source_s=2.0)
    cut = read_timeline(path, source=known_source, also=[known_render])
    ((start, end),) = cut.ranges
    assert start == pytest.approx(2.0, abs=0.05) and end == pytest.approx(5.0, abs=0.05)
