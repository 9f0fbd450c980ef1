"""Exports of sources that were themselves cut with stream copy, as editors deliver them.

`ffmpeg -ss 1.3 -i in.mp4 -t 3 -c copy cut.mp4` starts the cut on the keyframe before 1.3 s (the
frames before 1.3 are kept as discarded pre-roll behind an edit list) and drops the B-frames
whose display time falls after 3 s, so the copy's video has gaps before its declared end and its
audio stops earlier still. An export must still last the cut, frame for frame, in sync.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.media import decode_audio, probe
from pipeline.render.files import probe_output
from pipeline.render.plan import RenderJob
from tests.conftest import shared_media_file
from tests.pipeline.render_support import TALKING_HEAD, export, ffmpeg, request

RATES = (15, 25)


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],  # noqa: S603
                   check=True)


@pytest.fixture(scope="module")
def copied(tmp_path_factory) -> dict[int, Path]:
    """Per frame rate, a 3 s stream-copied cut starting 1.3 s into the talking head."""
    head = shared_media_file(TALKING_HEAD)
    tmp = tmp_path_factory.mktemp("copied")
    cuts = {}
    for fps in RATES:
        # One-second GOPs with B-frames, like camera files: the copy's start falls mid-GOP.
        src = tmp / f"src-{fps}.mp4"
        _ffmpeg("-i", str(head), "-vf", f"fps={fps}", "-c:v", "libx264", "-preset", "veryfast",
                "-g", str(fps), "-c:a", "aac", str(src))
        cuts[fps] = tmp / f"copied-{fps}.mp4"
        _ffmpeg("-ss", "1.3", "-i", str(src), "-t", "3", "-c", "copy", str(cuts[fps]))
    return cuts


def _video_frames(path: Path) -> tuple[list[float], list[Any]]:
    """Presentation times (s) and grey pictures of every frame a player shows."""
    import av
    import numpy as np

    with av.open(str(path)) as c:
        frames = [(f.time, f.to_ndarray(format="gray").astype(np.float32)) for f in c.decode(video=0)]
    return [t for t, _ in frames], [p for _, p in frames]


def _audio_lag(out: Any, source: Any, start: float, rate: int = 16000) -> float:
    """Seconds by which the export's audio trails the source's audio at `start`."""
    import numpy as np

    seg = out[rate // 4: rate // 4 + rate]  # a second from 0.25 s into the export
    base = int(round(start * rate)) + rate // 4
    lags = range(-rate // 20, rate // 20)  # +-50 ms
    scores = [float(np.dot(seg, source[base + lag: base + lag + len(seg)]))
              if base + lag >= 0 and base + lag + len(seg) <= len(source) else -np.inf for lag in lags]
    return -lags[int(np.argmax(scores))] / rate


def test_the_copied_sources_really_have_pre_roll_and_a_ragged_end(copied):
    import av

    for fps, path in copied.items():
        with av.open(str(path)) as c:
            packets = [p for p in c.demux(video=0) if p.size]
        assert packets[0].is_discard and packets[0].is_keyframe, fps  # pre-roll behind an edit list
        times, _ = _video_frames(path)
        info = probe(path)
        steps = {round((b - a) * fps) for a, b in zip(times, times[1:], strict=False)}
        assert steps - {1} or times[-1] + 1 / fps < info.duration - 1e-3, fps  # gaps or a short video
        assert info.streams[1].duration < info.duration - 1 / fps, fps  # audio stops early


@pytest.mark.slow
@pytest.mark.parametrize("fps", RATES)
@pytest.mark.parametrize(("start", "end"), [(0.0, None), (1.23, None), (0.7, 2.5)],
                         ids=["in-0-out-end", "in-mid-out-end", "in-mid-out-mid"])
def test_export_of_a_copied_source_is_the_cut_frame_for_frame(copied, tmp_path, fps, start, end):
    import numpy as np

    source = copied[fps]
    end = probe(source).duration if end is None else end
    result = export(request(source, tmp_path, start=start, end=end))

    info = probe_output(result.video)
    expected_frames = round((end - start) * fps + 1e-9)
    assert info.fps == fps
    assert abs(info.video_duration - (end - start)) <= 0.5 / fps + 1e-3
    assert info.audio_duration is not None and abs(info.audio_duration - (end - start)) <= 2e-3

    # Frame k of the export is the source frame on screen at start + k / fps.
    src_times, src_frames = _video_frames(source)
    out_times, out_frames = _video_frames(result.video)
    assert len(out_frames) == expected_frames
    assert out_times == pytest.approx([k / fps for k in range(expected_frames)], abs=1e-3)
    wrong = []
    for k, picture in enumerate(out_frames):
        want = int(np.searchsorted(src_times, start + 1e-3 + k / fps, side="right")) - 1
        near = range(max(0, want - 3), min(len(src_frames), want + 4))
        err = {i: float(np.mean((src_frames[i] - picture) ** 2)) for i in near}
        # A neighbour may tie on a still moment; only a clearly better one means a wrong frame.
        if err[want] > 1.5 * min(err.values()) + 1.0:
            wrong.append((k, want, min(err, key=err.__getitem__)))
    assert not wrong, f"(export frame, source frame expected, source frame seen): {wrong[:5]}"

    # The sound starts at the in point too (the copy's audio itself starts at 0).
    lag = _audio_lag(decode_audio(result.video), decode_audio(source), start)
    assert abs(lag) <= 2e-3


def test_the_cut_is_planned_on_the_source_frame_under_the_in_point():
    job = RenderJob(ffmpeg="ffmpeg", source="/m/in.mp4", start=1.23, end=3.3, src_width=590,
                    src_height=590, fps=15.0, output="/o/x.mp4")
    assert (job.seek, job.lead, job.frames) == (1.2, 0.03, 31)
    # A frame-aligned in point written to the millisecond (frame 16 starts at 1.0667 s).
    aligned = RenderJob(ffmpeg="ffmpeg", source="/m/in.mp4", start=1.067, end=2.0, src_width=590,
                        src_height=590, fps=15.0, output="/o/x.mp4")
    assert aligned.seek == 1.066 and aligned.seek <= 16 / 15
    assert RenderJob(ffmpeg="ffmpeg", source="/m/in.mp4", start=10.0, end=25.0, src_width=1920,
                     src_height=1080, fps=25.0, output="/o/x.mp4").seek == 10.0
