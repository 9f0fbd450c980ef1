"""A render killed midway leaves nothing under the final name, and the re-run succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, shared_media_file
from tests.pipeline.render_support import TALKING_HEAD, export, request

pytestmark = pytest.mark.slow

# A deliberately slow render (big frame, slowest x264 preset) so there is time to kill it.
SCRIPT = """
import sys
from dataclasses import replace
from pathlib import Path
from pipeline.render.profiles import RenderOptions
from tests.pipeline.render_support import export, request

req = request(Path(sys.argv[1]), Path(sys.argv[2]), profile="vertical", start=0.0, end=4.5,
              options=RenderOptions(preset="veryslow", crf=18))
export(req)
"""


def _start(src: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SCRIPT, str(src), str(out)], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait_for_part(directory: Path, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = [p for p in directory.glob("*/.*.part.mp4") if p.stat().st_size > 0]
        if parts:
            return parts[0]
        if proc.poll() is not None:
            raise AssertionError(f"render ended before it could be killed: {proc.stderr.read()!r}")
        time.sleep(0.1)
    raise AssertionError("the render never started writing")


def _ffmpeg_children(pid: int) -> list[psutil.Process]:
    return [c for c in psutil.Process(pid).children(recursive=True) if "ffmpeg" in c.name()]


@pytest.mark.parametrize("victim", ["python", "ffmpeg"])
def test_killed_render_leaves_no_final_file_and_rerun_succeeds(victim, tmp_path):
    src = shared_media_file(TALKING_HEAD)
    out = tmp_path / "exports"
    proc = _start(src, out)
    try:
        part = _wait_for_part(out, proc)
        children = _ffmpeg_children(proc.pid)
        assert children, "ffmpeg should be running"
        if victim == "python":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            children[0].send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # The kernel takes ffmpeg down with its parent (PR_SET_PDEATHSIG): no orphan finishes it.
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    export_dir = part.parent
    final = export_dir / f"{export_dir.name}.mp4"
    assert not final.exists()
    assert not (export_dir / "manifest.json").exists()
    if victim == "ffmpeg":
        # Python saw ffmpeg fail: it reported a RenderError and removed its temporary file.
        assert b"RenderFailed" in proc.stderr.read() and not part.exists()

    req = request(src, out, profile="vertical", start=0.0, end=4.5)
    result = export(req)
    assert result.video == final and final.exists() and (export_dir / "manifest.json").exists()
    assert [p.name for p in export_dir.iterdir() if p.name.startswith(".")] == []
