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


def make_proxy(workspace: Workspace, source: Path, source_sha256: str, *, height: int = 360,
               niceness: int = 0) -> Path:
    """Write the interview's proxy, at most `height` pixels high, to `proxies/<sha256>.mp4`
    (pipeline.render.proxy_encode: verified, atomic, stale `.part` files of killed runs removed first).
    Raises ProxyError naming the source when the source is unusable or the encode fails.
    `niceness`: the encode's lower CPU priority (`ProxyOptions.niceness`)."""
    if not _SHA.match(source_sha256 or ""):
        raise ProxyError(f"not a sha256: {source_sha256!r}")
    from pipeline.render.proxy_encode import ProxyOptions
    from pipeline.render.proxy_encode import make_proxy as encode_proxy

    dest = workspace.proxies / f"{source_sha256}.mp4"
    try:
        result = encode_proxy(source, dest, ProxyOptions(max_height=height, niceness=niceness))
    except (RenderError, MediaError) as exc:
        raise ProxyError(f"cannot make a review proxy of {Path(source).name}: {exc}") from exc
    if result.height is None:
        make_still(workspace, source_sha256, height=height)
    return result.path


def peaks_file(workspace: Workspace, source_sha256: str) -> Path:
    """Where ingest keeps the interview's waveform peaks (`pipeline.waveform` bytes), computed
    from the audio it decoded for transcription."""
    return workspace.proxies / f"{source_sha256}.peaks"


def still_path(workspace: Workspace, source_sha256: str) -> Path | None:
    """The still frame (PNG, the waveform) shown for an audio-only interview, or None."""
    if not _SHA.match(source_sha256 or ""):
        return None
    path = workspace.proxies / f"{source_sha256}.png"
    return path if path.is_file() else None


def make_still(workspace: Workspace, source_sha256: str, *, height: int = 360) -> Path | None:
    """The audio-only interview's picture: its waveform drawn from the stored peaks into
    `proxies/<sha256>.png` (16:9, `height` pixels high). No decode and no video encode; None
    when ingest left no peaks."""
    from PIL import Image, ImageDraw

    from pipeline.atomic import atomic_path
    from pipeline.waveform import peaks_from_bytes

    src = peaks_file(workspace, source_sha256)
    if not _SHA.match(source_sha256 or "") or not src.is_file():
        return None
    pairs = peaks_from_bytes(src.read_bytes()).pairs().astype("float32") / 127.0
    width = (height * 16 // 9) // 2 * 2
    image = Image.new("RGB", (width, height), (24, 24, 24))
    draw = ImageDraw.Draw(image)
    mid = height / 2
    if len(pairs):
        for x in range(width):
            a, b = x * len(pairs) // width, max((x + 1) * len(pairs) // width, x * len(pairs) // width + 1)
            lo, hi = float(pairs[a:b, 0].min()), float(pairs[a:b, 1].max())
            draw.line([(x, mid - hi * mid * 0.9), (x, mid - lo * mid * 0.9)], fill=(120, 200, 255))
    target = workspace.proxies / f"{source_sha256}.png"
    with atomic_path(target) as tmp:
        image.save(tmp, format="PNG")
    return target
