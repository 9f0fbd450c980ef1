"""The face detector on real frames, and exports whose faces (two at once) and manual regions are
blurred: a detector run on the export finds nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.errors import ModelError
from pipeline.render.face_detect import UNSURE
from pipeline.render.faces import (
    ManualRegion,
    SamplingOptions,
    blur_regions,
    default_detector,
    faces_on_frame,
    iter_frames,
)
from tests.conftest import shared_media_file
from tests.pipeline.render_support import FAST, TALKING_HEAD, export, ffmpeg, request

TALKING = ("vid_en_talkinghead_1.mp4", "vid_en_talkinghead_2.mp4", "vid_en_talkinghead_3.mp4",
           "vid_en_talkinghead_5.mp4", "vid_en_talkinghead_katiehill.mp4")


def test_an_altered_model_file_is_refused(tmp_path, monkeypatch):
    from pipeline.render import face_model

    monkeypatch.setenv("COUNTERCLIPS_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelError, match="missing"):
        face_model.centerface_path()
    target = face_model.centerface_cache_path()
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256"):
        face_model.centerface_path()


def _rgb(name: str, t: float):
    import numpy as np

    for _t, frame in iter_frames(str(shared_media_file(name)), t, t + 0.5, 1.0):
        return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    raise AssertionError(f"no frame in {name} at {t}")


@pytest.mark.slow
@pytest.mark.parametrize("name", TALKING)
def test_the_face_of_each_talking_head_is_found_on_every_sampled_frame(name):
    src = str(shared_media_file(name))
    frames = list(iter_frames(src, 0.0, 4.5, 0.5))
    assert len(frames) >= 8
    missed = [t for t, frame in frames if not faces_on_frame(frame)]
    assert not missed, f"no face found at {missed}"


def _canvas_with(face_rgb, height: int, size=(1280, 720), at=(600, 300)):
    import numpy as np
    from PIL import Image

    img = Image.fromarray(face_rgb)
    img = img.resize((round(img.width * height / img.height), height), Image.LANCZOS)
    canvas = Image.new("RGB", size, (90, 110, 100))
    canvas.paste(img, at)
    return np.asarray(canvas)


@pytest.mark.slow
@pytest.mark.parametrize("face_px", [24, 30])
def test_a_face_of_24_to_30_pixels_is_found_by_the_fine_pass(face_px):
    from PIL import Image

    detector = default_detector()
    rgb = _rgb(TALKING_HEAD, 1.0)
    (face,) = [d for d in detector.detect(rgb) if d.score >= 0.5]
    # Scale the whole frame so that the face is face_px tall, then detect at the fine width.
    canvas = _canvas_with(rgb, round(rgb.shape[0] * face_px / (face.y1 - face.y0)))
    width = SamplingOptions().fine_width
    small = Image.fromarray(canvas).resize((width, round(720 * width / 1280)), Image.BILINEAR)
    import numpy as np

    found = [d.scaled(1280 / width) for d in detector.detect(np.asarray(small))]
    assert any(600 <= (d.x0 + d.x1) / 2 <= 600 + 4 * face_px and d.score >= UNSURE for d in found), found


@pytest.mark.slow
def test_no_face_on_blank_and_white_frames():
    import numpy as np

    detector = default_detector()
    assert detector.detect(np.full((720, 1280, 3), 118, np.uint8)) == ()
    assert detector.detect(np.zeros((360, 640, 3), np.uint8)) == ()
    assert detector.detect(_rgb("vid_zh-en_autocut_test001.mp4", 2.0)) == ()


def _two_faces(out: Path) -> Path:
    """1280x720, 4 s: a talking head at full height on the left, another one small (face ~50 px)
    at the right."""
    a, b = shared_media_file(TALKING_HEAD), shared_media_file("vid_en_talkinghead_5.mp4")
    subprocess.run(  # noqa: S603
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(a), "-i", str(b),
         "-filter_complex",
         "color=c=0x304050:s=1280x720:r=25[bg];[0:v]scale=-2:720,setsar=1[a];[1:v]scale=-2:150,setsar=1[b];"
         "[bg][a]overlay=40:0:shortest=1[t];[t][b]overlay=1000:120",
         "-map", "0:a", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(out)],
        check=True)
    return out


def _faces_every(path: Path, start: float, end: float, every: float = 0.2) -> list[tuple[float, int]]:
    return [(round(t, 2), len(faces_on_frame(frame)))
            for t, frame in iter_frames(str(path), start, end, every)]


@pytest.mark.slow
def test_an_export_with_two_faces_blurs_both_in_every_sampled_frame(tmp_path):
    src = _two_faces(tmp_path / "two.mp4")
    before = _faces_every(src, 0.5, 3.5)
    assert before and all(n == 2 for _t, n in before), before  # the check below means something
    req = request(src, tmp_path / "out", start=0.5, end=3.5, blur_faces=True)
    result = export(req)
    after = _faces_every(Path(result.video), 0.0, result.duration)
    assert len(after) >= 14
    exposed = [(t, n) for t, n in after if n]
    assert not exposed, f"a face is detectable in the export at {exposed}"


@pytest.mark.slow
def test_a_manual_region_is_blurred_in_the_render_only_over_its_time(tmp_path):
    import numpy as np

    from pipeline.render.plan import RenderJob, plan_render
    from pipeline.render.run import run_ffmpeg
    from tests.pipeline.render_support import frames_at

    src = _two_faces(tmp_path / "two.mp4")
    box = ManualRegion(700, 400, 200, 200, start=1.5, end=2.5)
    # A sharp test pattern under the region, so that blur is measurable.
    patterned = tmp_path / "patterned.mp4"
    subprocess.run(  # noqa: S603
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-f", "lavfi",
         "-i", "testsrc2=s=200x200:r=25", "-filter_complex", "[0:v][1:v]overlay=700:400:shortest=1",
         "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-c:a", "aac",
         str(patterned)],
        check=True)
    regions = blur_regions((), 0.5, 3.5, 1280, 720, full_frame_fallback=False, manual=(box,))
    out = tmp_path / "manual.mp4"
    job = RenderJob(ffmpeg=ffmpeg(), source=str(patterned), start=0.5, end=3.5, src_width=1280,
                    src_height=720, fps=25.0, output=str(out), options=FAST, blur=regions)
    run_ffmpeg(plan_render(job))

    def detail(rgb) -> float:
        patch = rgb[410:590, 710:890].astype(np.float32).mean(axis=2)
        return float(np.abs(np.diff(patch, axis=0)).mean() + np.abs(np.diff(patch, axis=1)).mean())

    # Clip clock: the region covers 1.0-2.0 s of the clip (source 1.5-2.5 s).
    outside, inside, after = (detail(f) for f in frames_at(out, [0.5, 1.5, 2.5]))
    assert inside < 0.2 * outside and inside < 0.2 * after, (outside, inside, after)


@pytest.mark.slow
def test_a_still_picture_carries_detections_and_a_moving_one_does_not():
    from pipeline.render.faces import detect_faces

    class Counting:
        def __init__(self) -> None:
            self.calls = 0

        def detect(self, rgb):
            self.calls += 1
            return default_detector().detect(rgb)

    one_part = SamplingOptions(workers=1)  # a range cut in parts starts each part afresh
    still = Counting()  # the audiobook shows one still cover image
    samples = detect_faces(str(shared_media_file("vid_en_manifesto_audiobook.mp4")), 0.0, 20.0, 2.0, still,
                           options=one_part)
    assert len(samples) >= 38 and still.calls <= 8, still.calls
    moving = Counting()
    samples = detect_faces(str(shared_media_file(TALKING_HEAD)), 0.0, 4.0, 2.0, moving, options=one_part)
    assert all(s.faces for s in samples) and moving.calls >= len(samples) - 2


@pytest.mark.slow
def test_detecting_only_where_the_picture_changed_finds_the_faces_whole_frames_find(tmp_path):
    from pipeline.render.faces import detect_faces

    src = str(_two_faces(tmp_path / "two.mp4"))
    cropped = detect_faces(src, 0.0, 4.0)
    whole = detect_faces(src, 0.0, 4.0, options=SamplingOptions(max_carry=0))  # every pass, whole frame
    assert [s.time for s in cropped] == [s.time for s in whole]
    assert all(len(s.faces) == 2 for s in whole)
    assert [len(s.faces) for s in cropped] == [len(s.faces) for s in whole]
    for a, b in zip(cropped, whole, strict=True):
        assert all(any(f.box.overlaps(g.box) for g in a.faces) for f in b.faces), (a, b)
    assert not any(r.full_frame for r in blur_regions(cropped, 0.0, 4.0, 1280, 720))


@pytest.mark.slow
def test_a_range_cut_at_keyframes_into_parts_finds_what_one_part_finds(tmp_path):
    from pipeline.render.faces import _keyframe_cuts, detect_faces

    two = _two_faces(tmp_path / "two.mp4")
    src = tmp_path / "keyed.mp4"  # a keyframe every second, so that a 4 s range can be cut
    subprocess.run(  # noqa: S603
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(two), "-g", "25",
         "-c:v", "libx264", "-preset", "ultrafast", "-an", str(src)], check=True)
    options = SamplingOptions(workers=2, min_part=1.5)
    assert _keyframe_cuts(str(src), 0.0, 4.0, 2, 1.5) == [2.0]
    assert _keyframe_cuts(str(src), 0.0, 4.0, 2, 2.5) == []  # parts would be too short
    import threading

    seen: list[float] = []
    threads: set[threading.Thread] = set()

    def progress(share: float) -> None:  # a preview's progress writes to the database
        seen.append(share)
        threads.add(threading.current_thread())

    parts = detect_faces(str(src), 0.0, 4.0, 2.0, progress=progress, options=options)
    one = detect_faces(str(src), 0.0, 4.0, 2.0, options=SamplingOptions(workers=1))
    times = [s.time for s in parts]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert {round(t, 2) for t in (s.time for s in one)} <= {round(t, 2) for t in times}
    assert all(len(s.faces) == 2 for s in parts) and all(len(s.faces) == 2 for s in one)
    assert seen and max(seen) <= 1.0 and threads == {threading.current_thread()}
    assert not any(r.full_frame for r in blur_regions(parts, 0.0, 4.0, 1280, 720))


@pytest.mark.slow
def test_a_face_found_only_by_the_periodic_whole_frame_run_blurs_back_to_the_previous_one():
    """A face whose arrival the thumbnail check did not see (here: a detector that 'sees' it only
    on whole frames after a while, over a still picture) is blurred whole back to the previous
    whole-frame run of that pass, not only next to the sample that found it."""
    from pipeline.render.face_detect import Detection
    from pipeline.render.faces import detect_faces

    class LateFace:
        def __init__(self) -> None:
            self.whole_runs = 0

        def detect(self, rgb):
            if rgb.shape[1] not in (320,):
                return ()
            self.whole_runs += 1
            return (Detection(100, 60, 140, 110, 0.9),) if self.whole_runs >= 3 else ()

    path = str(shared_media_file("vid_en_manifesto_audiobook.mp4"))  # one still cover, 320x180
    samples = detect_faces(path, 0.0, 12.0, 2.0, LateFace(), options=SamplingOptions(workers=1))
    (found,) = [s for s in samples if s.since is not None]
    assert found.since == pytest.approx(4.0, abs=0.3) and found.time == pytest.approx(8.0, abs=0.3)
    regions = blur_regions(samples, 0.0, 12.0, 320, 180, full_frame_fallback=True)
    assert all(any(r.full_frame and r.start <= t < r.end for r in regions) for t in (4.5, 6.0, 7.5))


@pytest.mark.slow
def test_a_face_fading_in_under_the_change_level_is_blurred_wherever_it_shows(tmp_path):
    """A face that fades in over 8 s changes the thumbnail by less than CHANGE_LEVEL from one
    sample to the next while it is faint: it must still be blurred (found where it differs enough
    from the picture that area was last checked on, or by the periodic whole-frame run, which
    blurs the whole frame back to the previous one) in every sample from the one where it is half
    visible."""
    import numpy as np

    from pipeline.render.faces import CHANGE_LEVEL, _thumbnail, detect_faces

    src = tmp_path / "fade.mp4"
    subprocess.run(  # noqa: S603
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-stream_loop", "-1", "-i", str(shared_media_file("vid_en_talkinghead_5.mp4")), "-filter_complex",
         "color=c=0x304050:s=1280x720:r=25:d=12[bg];[0:v]scale=-2:200,setsar=1,format=rgba,"
         "fade=in:st=2:d=8:alpha=1[f];[bg][f]overlay=500:200:shortest=1",
         "-t", "12", "-an", "-c:v", "libx264", "-preset", "ultrafast", str(src)], check=True)
    thumbs = [_thumbnail(frame, 160).astype(np.int16) for _t, frame in iter_frames(str(src), 1.5, 4.1, 0.5)]
    steps = [int(np.abs(b - a).max()) for a, b in zip(thumbs, thumbs[1:], strict=False)]
    assert steps and max(steps) <= CHANGE_LEVEL, steps  # its first 2 s are faint from sample to sample
    samples = detect_faces(str(src), 0.0, 12.0, options=SamplingOptions(workers=1))
    assert any(s.faces for s in samples if s.time >= 9.0)  # the face is there to be found
    regions = blur_regions(samples, 0.0, 12.0, 1280, 720)

    def covered(t: float) -> bool:  # the face's middle (x 540-660, y 240-360) is inside a blur
        return any(r.start <= t < r.end and (r.full_frame or (
            r.x <= 540 and r.y <= 240 and r.x + r.width >= 660 and r.y + r.height >= 360)) for r in regions)

    shown = [s.time for s in samples if s.time >= 6.0]
    assert shown and all(covered(t) for t in shown), [t for t in shown if not covered(t)]
