"""The review's whole-interview proxy: named by the source's sha256 inside the workspace, encoded
by pipeline.render.proxy_encode (real ffmpeg on small real media), failures as ProxyError."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from pipeline.atomic import file_sha256
from pipeline.render.files import probe_output
from review.proxy_files import ProxyError, make_proxy, proxy_path
from tests.conftest import shared_media_file

pytestmark = pytest.mark.slow

ODD_NAME = "-Omar's \"first\" interview, ünï مقابلة.mp4"


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def test_proxy_of_an_oddly_named_source_runs_through_run_ffmpeg(workspace, tmp_path, monkeypatch):
    import pipeline.render.proxy_encode as encoder

    src = tmp_path / ODD_NAME
    shutil.copyfile(shared_media_file("vid_en_talkinghead_3.mp4"), src)
    sha = file_sha256(src)
    runs: list[list[str]] = []
    real = encoder.run_ffmpeg
    monkeypatch.setattr(encoder, "run_ffmpeg",
                        lambda argv, *a, **k: runs.append(list(argv)) or real(argv, *a, **k))
    # A temporary file of a killed encode: removed, then the proxy is made again from scratch.
    stale = workspace.proxies / f".{sha}.{_dead_pid()}.part.mp4"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half an mp4")

    path = make_proxy(workspace, src, sha, height=240)
    assert len(runs) == 1 and f"file:{src}" in runs[0]
    assert path == workspace.proxies / f"{sha}.mp4" and proxy_path(workspace, sha) == path.resolve()
    info = probe_output(path)
    assert (info.video_codec, info.audio_codec, info.height) == ("h264", "aac", 240)
    assert sorted(p.name for p in workspace.proxies.iterdir()) == [f"{sha}.mp4"]


def test_corrupt_source_gives_proxy_error_and_no_file(workspace, tmp_path):
    corrupt = tmp_path / "corrupt interview.mp4"
    corrupt.write_bytes(os.urandom(40_000))
    sha = file_sha256(corrupt)
    with pytest.raises(ProxyError, match="review proxy of corrupt interview.mp4: .*not a readable"):
        make_proxy(workspace, corrupt, sha)
    assert proxy_path(workspace, sha) is None
    assert not workspace.proxies.is_dir() or list(workspace.proxies.iterdir()) == []
    with pytest.raises(ProxyError, match="no such file"):
        make_proxy(workspace, tmp_path / "gone.mp4", sha)


def test_ffmpeg_failure_is_a_proxy_error(workspace, tmp_path, monkeypatch):
    # ffmpeg itself refuses (an impossible encoder setting): RenderFailed carries its stderr.
    from pipeline.render.proxy_encode import ProxyOptions

    monkeypatch.setattr("pipeline.render.proxy_encode.ProxyOptions",
                        lambda max_height=360, niceness=0: ProxyOptions(max_height, preset="nope"))
    src = shared_media_file("vid_en_talkinghead_3.mp4")
    with pytest.raises(ProxyError, match="ffmpeg exited with code"):
        make_proxy(workspace, src, "e" * 64)
    assert list(workspace.proxies.iterdir()) == []


def test_a_sha256_is_required(workspace, tmp_path):
    with pytest.raises(ProxyError, match="not a sha256"):
        make_proxy(workspace, tmp_path / "x.mp4", "../../etc/passwd")
    assert proxy_path(workspace, "../../etc/passwd") is None
