"""Review proxies: a light H.264 copy of a whole interview, `proxies/<source sha256>.mp4`.

The candidate page plays the proxy from the candidate's in point to its out point (source
clock), so trimming can reach outside the current clip. Whoever ingests footage may call
`make_proxy`; the app only ever maps a candidate id to this one file name inside the workspace.
The encode itself (plan, ffmpeg through `run_ffmpeg`, verify, atomic rename) is
`pipeline.render.proxy_encode`; this module adds the file naming and the review's error.
"""

from __future__ import annotations

import re
from pathlib import Path

from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError, MediaError, RenderError

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


def make_proxy(workspace: Workspace, source: Path, source_sha256: str, *, height: int = 360) -> Path:
    """Write the interview's proxy, at most `height` pixels high, to `proxies/<sha256>.mp4`
    (pipeline.render.proxy_encode: verified, atomic, stale `.part` files of killed runs removed first).
    Raises ProxyError naming the source when the source is unusable or the encode fails."""
    if not _SHA.match(source_sha256 or ""):
        raise ProxyError(f"not a sha256: {source_sha256!r}")
    from pipeline.render.proxy_encode import ProxyOptions
    from pipeline.render.proxy_encode import make_proxy as encode_proxy

    dest = workspace.proxies / f"{source_sha256}.mp4"
    try:
        return encode_proxy(source, dest, ProxyOptions(max_height=height)).path
    except (RenderError, MediaError) as exc:
        raise ProxyError(f"cannot make a review proxy of {Path(source).name}: {exc}") from exc
