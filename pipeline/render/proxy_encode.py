"""Review proxies: a light, low-resolution H.264/AAC copy of a whole interview for the review
page's player, which seeks in it on the source clock (so no cut: no -ss/-t). Proxies never
leave the workspace, so they need no export authorisation; they still land atomically
(temporary name, verify, rename), and a killed encode leaves only a `.part` file that the next
call removes before encoding again."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import MediaError, RenderError
from pipeline.media import check_media_file, file_url, open_media
from pipeline.render.files import commit, remove_stale_parts, temp_path
from pipeline.render.profiles import even
from pipeline.render.run import Progress, ffmpeg_exe, run_ffmpeg


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """Proxy encoding, for review not broadcast. Defaults: at most 360 pixels high (never
    upscaled), x264 `ultrafast` CRF 28 (about half `veryfast`'s CPU; a larger file stays in
    the workspace), a keyframe every `keyframe_seconds` so the player seeks to any in point
    quickly, AAC 96 kbit/s in at most two channels (two panned lapel mics stay apart), fast
    start so the browser plays it while it downloads. `niceness` > 0 encodes at a lower CPU
    priority: the nightly run's proxies take the cores a concurrent transcription leaves idle."""

    max_height: int = 360
    preset: str = "ultrafast"
    keyframe_seconds: float = 1.0
    crf: int = 28
    audio_bitrate: str = "96k"
    audio_channels: int = 2
    niceness: int = 0


@dataclass(frozen=True, slots=True)
class SourceStreams:
    """The streams a proxy is made from. Indexes are the container's; `duration` in seconds."""

    duration: float
    video_index: int | None
    audio_index: int | None
    height: int | None = None  # pixels, of the video stream


@dataclass(frozen=True, slots=True)
class ProxyResult:
    path: Path
    duration: float  # seconds
    height: int | None  # pixels; None for an audio-only proxy
    has_audio: bool


def duration_tolerance(duration: float) -> float:
    """How far (seconds) a proxy's duration may be from its source's: audio priming, edit lists
    and stream-length differences move it by a frame or two; a truncated decode by far more."""
    return 0.5 + 0.005 * duration


def _streams(container: Any) -> SourceStreams:
    from av.stream import Disposition

    # Cover art (an attached picture) is a one-frame "video" stream; it is not the interview.
    video = next((s for s in container.streams.video if not s.disposition & Disposition.attached_pic), None)
    audio = container.streams.audio[0] if container.streams.audio else None  # what was transcribed
    durations = [float(s.duration * s.time_base) for s in (video, audio) if s is not None and s.duration]
    duration = container.duration / 1_000_000 if container.duration else max(durations, default=0.0)
    return SourceStreams(
        duration=float(duration), video_index=video.index if video is not None else None,
        audio_index=audio.index if audio is not None else None,
        height=video.codec_context.height if video is not None else None,
    )


def probe_source(path: str | os.PathLike[str]) -> SourceStreams:
    """The video and audio stream a proxy of `path` carries, and its duration. Raises MediaError
    for a missing, empty or unreadable file and for one with neither video nor audio."""
    # Same checks and the same safe opening as ingest's probe; that probe also hashes the file
    # and requires audio, neither of which a proxy needs.
    name = os.fspath(path)
    container = open_media(check_media_file(path), name)
    try:
        streams = _streams(container)
    finally:
        container.close()
    if streams.video_index is None and streams.audio_index is None:
        raise MediaError(f"{name}: neither a video nor an audio stream")
    if streams.duration <= 0:
        raise MediaError(f"{name}: no duration (empty or unreadable streams)")
    return streams


def plan_proxy(ffmpeg: str, source: str, out: str, streams: SourceStreams,
               options: ProxyOptions = ProxyOptions()) -> list[str]:
    """argv of the proxy encode of the whole of `source` (pure): the chosen video stream scaled
    down to at most `options.max_height`, the first audio stream, no metadata."""
    if streams.video_index is None and streams.audio_index is None:
        raise RenderError(f"{source}: nothing to put in a proxy (no video, no audio)")
    import ffmpeg as ff  # ffmpeg-python: pure graph building, no binary needed to compile

    src = ff.input(file_url(source))
    outputs: list[Any] = []
    kwargs: dict[str, Any] = {}
    if streams.video_index is not None:
        # trunc(ih/2)*2: an odd-height source below the cap still gives yuv420p an even height.
        height = f"min({even(options.max_height)},trunc(ih/2)*2)"
        outputs.append(src[str(streams.video_index)].filter("scale", -2, height).filter("format", "yuv420p"))
        kwargs.update(vcodec="libx264", preset=options.preset, crf=options.crf,
                      force_key_frames=f"expr:gte(t,n_forced*{options.keyframe_seconds:g})")
    if streams.audio_index is not None:
        outputs.append(src[str(streams.audio_index)])
        kwargs.update(acodec="aac", ac=options.audio_channels, **{"b:a": options.audio_bitrate})
    out_node = ff.output(*outputs, file_url(out), movflags="+faststart", f="mp4",
                         map_metadata=-1, map_chapters=-1, **kwargs)
    argv = out_node.compile(cmd=ffmpeg)
    return [argv[0], "-hide_banner", "-y", "-loglevel", "info", *argv[1:]]


def verify_proxy(path: Path, streams: SourceStreams, options: ProxyOptions = ProxyOptions(),
                 name: str | None = None) -> ProxyResult:
    """Probe the encoded proxy and raise RenderError unless it has the source's kinds of stream
    (H.264 video no higher than the cap, AAC audio) and lasts as long as the source. `name`
    is what errors call it (the final name rather than the temporary one)."""
    import av

    name = name or path.name

    try:
        with av.open(file_url(path)) as c:
            got = _streams(c)
            vcodec = c.streams[got.video_index].codec_context.name if got.video_index is not None else None
            acodec = c.streams[got.audio_index].codec_context.name if got.audio_index is not None else None
    except (av.FFmpegError, OSError) as exc:
        raise RenderError(f"{name}: the proxy does not probe: {exc}") from exc
    problems = []
    if streams.video_index is not None and vcodec != "h264":
        problems.append(f"video codec {vcodec}")
    if got.height is not None and got.height > even(options.max_height):
        problems.append(f"{got.height} pixels high, at most {even(options.max_height)} wanted")
    if streams.audio_index is not None and acodec != "aac":
        problems.append(f"audio codec {acodec}")
    if abs(got.duration - streams.duration) > duration_tolerance(streams.duration):
        problems.append(f"lasts {got.duration:.3f}s, the source {streams.duration:.3f}s")
    if problems:
        raise RenderError(f"{name} failed verification: {'; '.join(problems)}")
    return ProxyResult(path, got.duration, got.height, acodec is not None)


def make_proxy(source: str | Path, out_path: str | Path, options: ProxyOptions = ProxyOptions(),
               progress: Progress | None = None) -> ProxyResult:
    """Encode the review proxy of the whole of `source` to `out_path` (.mp4), replacing any
    earlier one. A source without audio gives a video-only proxy, one without video an
    audio-only one. Raises MediaError (unusable source) or RenderError (encode or verify
    failed); either way nothing is left under `out_path`'s name that was not there before."""
    streams = probe_source(source)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out)  # leftovers of a killed encode
    tmp = temp_path(out)
    try:
        run_ffmpeg(plan_proxy(ffmpeg_exe(), str(source), str(tmp), streams, options), progress,
                   niceness=options.niceness)
        result = verify_proxy(tmp, streams, options, name=out.name)
        commit(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ProxyResult(out, result.duration, result.height, result.has_audio)
