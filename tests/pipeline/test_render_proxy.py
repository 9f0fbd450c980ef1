"""Review proxies of whole interviews: pure argv, then real ffmpeg on small real media (odd names,
no audio, no video, corrupt and truncated sources, a killed encode)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.errors import MediaError, RenderError
from pipeline.render.files import probe_output
from pipeline.render.proxy_encode import (
    ProxyOptions,
    SourceStreams,
    duration_tolerance,
    make_proxy,
    plan_proxy,
    probe_source,
)
from pipeline.render.run import run_ffmpeg, with_progress
from tests.conftest import shared_media_file
from tests.pipeline.render_support import TALKING_HEAD, ffmpeg

REPO = Path(__file__).resolve().parents[2]
JFK = REPO / "tests" / "data" / "en_jfk_inaugural.flac"  # audio only, 11 s
ODD_NAME = "-it's \"quoted\", ünï مقابلة.mp4"


def _opt(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


# ---- plan (pure) ---------------------------------------------------------------------------------

def test_plan_is_an_argv_list_of_the_whole_file():
    argv = plan_proxy("ffmpeg", "/m/a b.mp4", "/ws/proxies/.x.1.part.mp4", SourceStreams(12.0, 0, 1, 720))
    assert all(isinstance(a, str) for a in argv) and argv[0] == "ffmpeg"
    assert "-ss" not in argv and "-t" not in argv  # whole interview: the player seeks on the source clock
    assert _opt(argv, "-i") == "file:/m/a b.mp4" and argv[-1] == "file:/ws/proxies/.x.1.part.mp4"
    assert "scale=-2:min(360\\,trunc(ih/2)*2)" in _opt(argv, "-filter_complex")
    assert "[0:0]" in _opt(argv, "-filter_complex") and "0:1" in argv  # exact streams, no guessing
    codecs = (_opt(argv, "-vcodec"), _opt(argv, "-acodec"), _opt(argv, "-preset"))
    assert codecs == ("libx264", "aac", "ultrafast")
    assert _opt(argv, "-movflags") == "+faststart" and _opt(argv, "-map_metadata") == "-1"
    # run_ffmpeg adds -nostdin (and progress) right after the executable
    assert with_progress(argv)[:2] == ["ffmpeg", "-nostdin"]


def test_plan_without_audio_or_without_video():
    video_only = plan_proxy("ffmpeg", "/m/v.mp4", "/o.mp4", SourceStreams(5.0, 0, None, 590))
    assert "-acodec" not in video_only and "-b:a" not in video_only
    assert _opt(video_only, "-vcodec") == "libx264"
    audio_only = plan_proxy("ffmpeg", "/m/a.flac", "/o.mp4", SourceStreams(11.0, None, 0),
                            ProxyOptions(audio_bitrate="64k"))
    assert "-filter_complex" not in audio_only and "-vcodec" not in audio_only
    assert _opt(audio_only, "-map") == "0:0" and _opt(audio_only, "-b:a") == "64k"
    with pytest.raises(RenderError):
        plan_proxy("ffmpeg", "/m/x", "/o.mp4", SourceStreams(1.0, None, None))


def test_duration_tolerance_grows_slowly():
    assert 0.5 < duration_tolerance(5.0) < 0.53 and duration_tolerance(7200.0) < 40


# ---- real ffmpeg ---------------------------------------------------------------------------------

def _hidden(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*"))


def _derive(src: Path, out: Path, *args: str) -> Path:
    run_ffmpeg([ffmpeg(), "-hide_banner", "-y", "-loglevel", "error", "-i", f"file:{src}", *args,
                f"file:{out}"])
    return out


@pytest.mark.slow
def test_proxy_of_an_oddly_named_interview_goes_through_run_ffmpeg(tmp_path, monkeypatch):
    folder = tmp_path / "footage, with: space [x]"
    folder.mkdir()
    src = folder / ODD_NAME
    shutil.copyfile(shared_media_file(TALKING_HEAD), src)
    out_dir = tmp_path / "work space: ü" / "proxies"
    calls: list[tuple[list[str], dict]] = []
    real_popen = subprocess.Popen

    def spy(argv, **kwargs):
        calls.append((list(argv), kwargs))
        return real_popen(argv, **kwargs)

    ffmpeg()  # imageio-ffmpeg's first look-up runs the binary itself; spy on the encode only
    monkeypatch.setattr("pipeline.render.run.subprocess.Popen", spy)
    result = make_proxy(src, out_dir / f"{'c' * 64}.mp4")
    (argv, kwargs), = calls
    assert argv[1] == "-nostdin" and not kwargs.get("shell") and kwargs["stdin"] == subprocess.DEVNULL
    assert f"file:{src}" in argv
    info = probe_output(result.path)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (360, 360) and result.height == 360  # 590x590, at most 360 high
    assert abs(info.video_duration - 5.0) <= 1 / info.fps + 1e-3 and result.has_audio
    assert abs(result.duration - probe_source(src).duration) <= duration_tolerance(5.0)
    assert [p.name for p in out_dir.iterdir()] == [f"{'c' * 64}.mp4"]  # no temporary file left


@pytest.mark.slow
def test_a_source_without_audio_gets_a_video_only_proxy(tmp_path):
    silent = _derive(shared_media_file(TALKING_HEAD), tmp_path / "no audio.mp4", "-an", "-c:v", "copy")
    result = make_proxy(silent, tmp_path / "p" / "v.mp4", ProxyOptions(max_height=240))
    info = probe_output(result.path)
    assert info.audio_codec is None and not result.has_audio
    assert info.height == 240 and abs(info.video_duration - 5.0) < 0.05


@pytest.mark.slow
def test_a_source_without_video_gets_an_audio_only_proxy(tmp_path):
    result = make_proxy(JFK, tmp_path / "p" / "a.mp4")
    assert result.height is None and result.has_audio
    assert abs(result.duration - 11.0) < 0.1


@pytest.mark.slow
def test_corrupt_and_truncated_sources_leave_nothing(tmp_path):
    out = tmp_path / "proxies" / "x.mp4"
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(os.urandom(40_000))
    with pytest.raises(MediaError):
        make_proxy(corrupt, out)
    # The index survives at the front, the media data is cut: ffmpeg encodes what is there and
    # exits 0, so only the duration check stops a short proxy from landing.
    faststart = _derive(shared_media_file(TALKING_HEAD), tmp_path / "fs.mp4", "-c", "copy",
                        "-movflags", "+faststart")
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(faststart.read_bytes()[: faststart.stat().st_size * 6 // 10])
    with pytest.raises(RenderError, match=r"x\.mp4 failed verification: lasts"):
        make_proxy(truncated, out)
    assert not out.exists() and not any(out.parent.iterdir())


@pytest.mark.slow
def test_a_killed_encode_leaves_no_final_file_and_the_next_call_redoes_it(tmp_path):
    src = shared_media_file("vid_en_manifesto_audiobook.mp4")  # 88 s
    out = tmp_path / "proxies" / f"{'d' * 64}.mp4"
    # `placebo` makes the encode slow enough to be caught in the middle.
    code = ("import sys; from pipeline.render.proxy_encode import ProxyOptions, make_proxy; "
            "make_proxy(sys.argv[1], sys.argv[2], ProxyOptions(preset='placebo'))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(src), str(out)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not (out.parent.is_dir() and any(p.stat().st_size > 0 for p in _hidden(out.parent))):
            assert proc.poll() is None, "the encode ended before it could be killed"
            assert time.monotonic() < deadline, "no temporary proxy appeared"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    (part,) = _hidden(out.parent)
    assert part.name.startswith(f".{out.stem}.{proc.pid}-") and ".part" in part.name and not out.exists()
    size = part.stat().st_size
    time.sleep(0.5)
    assert part.stat().st_size == size  # ffmpeg died with its parent
    result = make_proxy(src, out)
    assert result.path == out and out.is_file() and _hidden(out.parent) == []


def test_a_background_encode_runs_at_the_niceness_asked():
    # The nightly run's proxies yield the cores to the transcriptions beside them.
    seen: list[int] = []

    def read_nice(proc: subprocess.Popen[str]) -> None:
        time.sleep(0.2)  # past fork and exec
        seen.append(os.getpriority(os.PRIO_PROCESS, proc.pid))

    base = os.getpriority(os.PRIO_PROCESS, 0)
    argv = [ffmpeg(), "-nostdin", "-f", "lavfi", "-i", "sine=duration=2", "-f", "null", "-"]
    run_ffmpeg(argv, on_start=read_nice, niceness=10)
    run_ffmpeg(argv, on_start=read_nice)
    assert seen == [min(19, base + 10), base]
