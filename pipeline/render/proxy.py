"""Review proxies: a light, low-resolution H.264 copy of a candidate's stretch with a WebVTT track
next to it, for the review page's player. Proxies never leave the workspace, so they need no
export authorisation; they still land atomically (temporary name, verify, rename)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.render.files import commit, probe_output, temp_path, write_text_atomic
from pipeline.render.profiles import even


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """Proxy encoding. Defaults: at most 360 pixels high, x264 `veryfast` CRF 30, AAC 64 kbit/s
    mono, fast start so the browser plays it while it downloads."""

    max_height: int = 360
    preset: str = "veryfast"
    crf: int = 30
    audio_bitrate: str = "64k"


@dataclass(frozen=True, slots=True)
class ProxyResult:
    video: Path
    vtt: Path | None
    duration: float  # seconds


def plan_proxy(ffmpeg: str, source: str, start: float, end: float, out: str,
               options: ProxyOptions = ProxyOptions()) -> list[str]:
    """argv of the proxy encode (pure)."""
    if not end > start >= 0:
        raise RenderError(f"invalid proxy range {start:.3f}-{end:.3f}s")
    import ffmpeg as ff

    src = ff.input(source, ss=f"{start:.3f}", t=f"{end - start:.3f}")
    v = src.video.filter("scale", -2, f"min({options.max_height},ih)").filter("setsar", 1) \
        .filter("format", "yuv420p")
    out_node = ff.output(
        v, src.audio, out, vcodec="libx264", preset=options.preset, crf=options.crf,
        acodec="aac", **{"b:a": options.audio_bitrate}, ac=1, movflags="+faststart", f="mp4",
        map_metadata=-1,
    )
    argv = out_node.compile(cmd=ffmpeg)
    return [argv[0], "-hide_banner", "-y", "-loglevel", "info", *argv[1:]]


def make_proxy(source: str | Path, start: float, end: float, out_path: str | Path,
               vtt_text: str | None = None, options: ProxyOptions = ProxyOptions()) -> ProxyResult:
    """Encode the review proxy of `source` between `start` and `end` (seconds) to `out_path`
    (.mp4) and, given `vtt_text` (already timed from `start`), write `out_path` with `.vtt`."""
    from pipeline.render.run import ffmpeg_exe, run_ffmpeg

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)
    try:
        run_ffmpeg(plan_proxy(ffmpeg_exe(), str(source), start, end, str(tmp), options))
        info = probe_output(tmp)
        if info.audio_codec is None or info.height > even(options.max_height) \
                or abs(info.video_duration - (end - start)) > 0.25:
            raise RenderError(f"{out.name}: proxy failed verification")
        commit(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    vtt = write_text_atomic(out.with_suffix(".vtt"), vtt_text) if vtt_text is not None else None
    return ProxyResult(out, vtt, info.video_duration)
