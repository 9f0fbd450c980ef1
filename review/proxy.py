"""Review proxies: a light H.264 copy of a whole interview, `proxies/<source sha256>.mp4`.

The candidate page plays the proxy from the candidate's in point to its out point (source
clock), so trimming can reach outside the current clip. Whoever ingests footage may call
`make_proxy`; the app only ever maps a candidate id to this one file name inside the workspace.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError

_SHA = re.compile(r"^[0-9a-f]{64}$")


class ProxyError(CounterclipsError):
    """A review proxy cannot be made or found."""


def proxy_path(workspace: Workspace, source_sha256: str) -> Path | None:
    """The proxy file for an interview, or None when it does not exist or is not inside the
    workspace's proxies folder (symlinks out of it are refused)."""
    if not _SHA.match(source_sha256 or ""):
        return None
    root = workspace.proxies.resolve()
    path = (root / f"{source_sha256}.mp4").resolve()
    if path.parent != root or not path.is_file():
        return None
    return path


def plan_proxy(source: Path, dest: Path, *, height: int = 360, ffmpeg: str = "ffmpeg") -> list[str]:
    """argv for a fast-start H.264/AAC proxy, `height` pixels high (even width kept)."""
    return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
            "-vf", f"scale=-2:{height}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "28",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "2",
            "-movflags", "+faststart", str(dest)]


def make_proxy(workspace: Workspace, source: Path, source_sha256: str, *, height: int = 360) -> Path:
    """Write the interview's proxy atomically (temporary name, then rename)."""
    if not _SHA.match(source_sha256):
        raise ProxyError(f"not a sha256: {source_sha256!r}")
    import imageio_ffmpeg

    workspace.proxies.mkdir(parents=True, exist_ok=True)
    dest = workspace.proxies / f"{source_sha256}.mp4"
    tmp = dest.with_name(f".{source_sha256}.{os.getpid()}.tmp.mp4")
    argv = plan_proxy(Path(source), tmp, height=height, ffmpeg=imageio_ffmpeg.get_ffmpeg_exe())
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603 - argv list
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProxyError(f"ffmpeg could not make a proxy of {Path(source).name}: {last}")
    os.replace(tmp, dest)
    return dest
