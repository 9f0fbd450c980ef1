"""Media in: probe containers, decode audio, hash files. PyAV only, no subprocess.

Every failure is a `MediaError` with one line naming the file and the cause (missing, empty,
not media, truncated, no audio stream, silence only). Paths are opened through FFmpeg's `file:`
protocol so names with spaces, quotes, colons, a leading dash or non-ASCII characters are never
parsed as options or URLs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.atomic import file_sha256
from pipeline.errors import MediaError
from pipeline.records import MediaInfo, StreamInfo

SAMPLE_RATE = 16000
_CHUNK = 1 << 20
# FFmpeg demuxers that accept almost any bytes (plain text renders as a "tty" video stream).
_NOT_MEDIA_FORMATS = frozenset({"tty", "txt", "lrc", "srt", "ass", "webvtt", "subviewer", "image2"})


@dataclass(frozen=True, slots=True)
class AudioCheckOptions:
    """How `check_audible` tells speech from silence.

    silence_dbfs: a 30 ms frame counts as sound when its RMS exceeds this level (dBFS).
        -50 keeps quiet recordings (the quietest test file sits near -42 dBFS RMS) and rejects
        digital silence and faint hiss.
    min_sound_seconds: at least this much sound must be present.
    """

    silence_dbfs: float = -50.0
    min_sound_seconds: float = 0.2


def _display(path: str | os.PathLike[str]) -> str:
    return os.fspath(path)


def check_media_file(path: str | os.PathLike[str]) -> Path:
    """`path` as a Path if it names a readable, non-empty file; MediaError saying why not."""
    p = Path(path)
    name = _display(path)
    if not p.exists():
        raise MediaError(f"{name}: no such file")
    if p.is_dir():
        raise MediaError(f"{name}: is a directory, not a media file")
    try:
        size = p.stat().st_size
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise MediaError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise MediaError(f"{name}: file is empty (0 bytes)")
    return p


def file_url(path: str | os.PathLike[str]) -> str:
    """`path` as FFmpeg's `file:` URL: a name with a colon is never read as a protocol, and an
    absolute path never starts with a dash."""
    return "file:" + os.path.abspath(path)


def open_media(path: Path, name: str) -> Any:
    """A PyAV container of `path` (any file name is safe: `file:` URL); MediaError naming `name`
    for truncated files and for formats that are not audio or video."""
    import av

    try:
        container = av.open(file_url(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        # A container whose index is cut off (e.g. mp4 without its moov atom) fails here too.
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(
            f"{name}: not a readable media file (truncated, or not audio/video: {reason})") from None
    if container.format.name in _NOT_MEDIA_FORMATS:
        container.close()
        raise MediaError(f"{name}: not a media file (looks like {container.format.name})")
    return container


def _header_shortfall(path: Path, fmt: str) -> str | None:
    """Why a WAV or MP3 file is shorter than its own header says, or None.

    FFmpeg estimates these formats' durations from the bytes present, so a copy cut short
    looks like a shorter, valid file. The RIFF data size and the Xing/Info byte count are the
    only record of the intended length. (A CBR MP3 without a Xing tag, cut at a frame boundary,
    cannot be told from a shorter file.)
    """
    import struct

    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if fmt == "wav" and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        pos = 12
        while pos + 8 <= len(head):
            cid, csize = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
            if cid == b"data":
                # 0 and 0xFFFFFFFF mark streamed WAVs whose writer never knew the size.
                if csize not in (0, 0xFFFFFFFF) and pos + 8 + csize > size + 1:
                    return f"{size - pos - 8} of {csize} audio bytes present"
                return None
            pos += 8 + csize + (csize & 1)
    if fmt == "mp3":
        for tag in (b"Xing", b"Info"):
            at = head.find(tag)
            if at < 0 or at + 16 > len(head):
                continue
            flags = struct.unpack_from(">I", head, at + 4)[0]
            if flags & 3 == 3:  # frames and bytes fields both present
                declared = struct.unpack_from(">I", head, at + 12)[0]
                start = head.rfind(b"\xff", 0, at)  # frame sync of the tag frame
                present = size - max(start, 0)
                if declared and present < declared * 0.98:
                    return f"{present} of {declared} bytes present"
            return None
    return None


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Container, streams, duration (seconds), size and sha256 of a media file.

    Raises MediaError for a missing, empty or unreadable file, and for a file with no audio
    stream (every product path needs speech).
    """
    name = _display(path)
    p = check_media_file(path)
    container = open_media(p, name)
    try:
        streams: list[StreamInfo] = []
        for s in container.streams:
            kind = s.type if s.type in ("audio", "video", "subtitle") else "data"
            codec = s.codec_context.name if s.codec_context is not None else "unknown"
            info: dict[str, Any] = {"index": s.index, "kind": kind, "codec": codec,
                                    "duration": _seconds(s.duration, s.time_base)}
            if kind == "audio":
                info.update(sample_rate=s.codec_context.sample_rate, channels=s.codec_context.channels)
            elif kind == "video":
                rate = s.average_rate or s.guessed_rate
                info.update(width=s.codec_context.width, height=s.codec_context.height,
                            fps=float(rate) if rate else None)
            streams.append(StreamInfo(**info))
        duration = container.duration / 1_000_000 if container.duration else None
        if duration is None:
            duration = max((s.duration or 0.0 for s in streams), default=0.0)
        fmt = container.format.name
    finally:
        container.close()
    if not any(s.kind == "audio" for s in streams):
        raise MediaError(f"{name}: no audio stream")
    return MediaInfo(path=os.path.abspath(p), sha256=file_sha256(p), size=p.stat().st_size, container=fmt,
                     duration=float(duration), streams=tuple(streams))


def decode_audio(path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The first audio stream as float32 mono at `sample_rate` Hz, in [-1, 1].

    Raises MediaError when the file has no audio stream, or is truncated: decoding stops with an
    error, or yields clearly less audio than the container declares.
    """
    import av

    name = _display(path)
    p = check_media_file(path)
    container = open_media(p, name)
    try:
        if not container.streams.audio:
            raise MediaError(f"{name}: no audio stream")
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        declared = _seconds(stream.duration, stream.time_base)
        if declared is None and container.duration:
            declared = container.duration / 1_000_000
        fmt = container.format.name
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        damaged = False
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            damaged = True
        try:
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            damaged = True
    finally:
        container.close()
    shortfall = _header_shortfall(p, fmt)
    if shortfall:
        raise MediaError(f"{name}: truncated file ({shortfall})")
    audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    # Resampling can ring past full scale; both Whisper front-ends saturate like s16 does.
    np.clip(audio, -1.0, 1.0, out=audio)
    got = audio.size / sample_rate
    if got == 0.0:
        raise MediaError(f"{name}: no decodable audio (truncated or corrupt)")
    # 5% + 0.5 s slack: encoder padding and VBR estimates make declared lengths approximate.
    # A decode error near the end of an otherwise complete file (a broken last frame) is tolerated.
    short = bool(declared) and got < declared * 0.95 - 0.5
    if short or (damaged and not declared):
        what = f"{got:.1f} s of {declared:.1f} s" if declared else f"{got:.1f} s"
        raise MediaError(f"{name}: truncated or corrupt audio (decoded {what})")
    return audio


def sound_seconds(audio: np.ndarray, sample_rate: int = SAMPLE_RATE,
                  options: AudioCheckOptions = AudioCheckOptions()) -> float:
    """Seconds of 30 ms frames louder than `options.silence_dbfs`."""
    frame = max(1, int(0.03 * sample_rate))
    n = audio.size // frame
    if n == 0:
        return 0.0
    frames = audio[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    threshold = 10 ** (options.silence_dbfs / 20)
    return float(np.count_nonzero(rms > threshold) * frame / sample_rate)


def check_audible(audio: np.ndarray, path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE,
                  options: AudioCheckOptions = AudioCheckOptions()) -> None:
    """Raise MediaError when `audio` (decoded from `path`) holds nothing but silence."""
    if sound_seconds(audio, sample_rate, options) < options.min_sound_seconds:
        raise MediaError(f"{_display(path)}: audio is silent (nothing above {options.silence_dbfs:g} dBFS)")


def load_audio(path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE,
               options: AudioCheckOptions = AudioCheckOptions()) -> np.ndarray:
    """`decode_audio` plus the silence check: audio ready for a speech model."""
    audio = decode_audio(path, sample_rate)
    check_audible(audio, path, sample_rate, options)
    return audio
