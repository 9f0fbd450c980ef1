"""Outputs land atomically: written under a temporary name in the target directory, verified, then
renamed into place (`pipeline.atomic`'s one temp naming scheme). A killed render leaves at most a
hidden `.part` file, never a final name."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.atomic import PART, commit, temp_path, temp_pid, temps_of, write_json_atomic, write_text_atomic
from pipeline.atomic import file_sha256 as sha256_of
from pipeline.atomic import pid_alive as _pid_alive
from pipeline.errors import RenderError

__all__ = ["PART", "commit", "sha256_of", "temp_path", "write_json_atomic", "write_text_atomic"]


@dataclass(frozen=True, slots=True)
class ProbedOutput:
    """What a rendered file contains. Durations in seconds."""

    duration: float  # container
    video_duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    audio_duration: float | None
    sample_rate: int | None
    channels: int | None


def remove_stale_parts(final: Path) -> list[Path]:
    """Delete temporary files of `final` left by renders whose process no longer exists."""
    removed = []
    for p in temps_of(final):
        pid = temp_pid(p.name)
        if pid is not None and pid != os.getpid() and not _pid_alive(pid):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


WORK_PREFIX = "counterclips-render-"
_SAFE_DIR = re.compile(r"^[\w/.-]+$")


def scratch_root() -> Path:
    """Where renders keep their scratch files (ASS, font links, card images).

    The ASS file and the fonts folder are named inside the filter graph, whose syntax gives ':',
    ',', quotes, brackets and spaces meaning; the output folder is the user's choice and may hold
    any of them, so scratch files live in the system temporary folder, or /tmp if that is odd.
    """
    root = Path(tempfile.gettempdir())
    return root if _SAFE_DIR.match(str(root)) else Path("/tmp")  # noqa: S108


def work_dir_prefix() -> str:
    """Prefix of a render's scratch directory; it carries the pid like temporary files do."""
    return f"{WORK_PREFIX}{os.getpid()}-"


def remove_stale_work_dirs(directory: Path) -> list[Path]:
    """Delete scratch directories of renders whose process no longer exists (killed renders)."""
    import shutil

    removed = []
    for p in directory.glob(f"{WORK_PREFIX}*"):
        pid = p.name[len(WORK_PREFIX):].split("-", 1)[0]
        if p.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def link_fonts(fonts: Path, into: Path) -> Path:
    """`into` holding links to (or copies of) the font files of `fonts`; returns `into`."""
    import shutil

    into.mkdir(parents=True, exist_ok=True)
    for f in fonts.iterdir():
        if f.suffix.lower() in (".ttf", ".otf"):
            try:
                (into / f.name).symlink_to(f)
            except OSError:
                shutil.copyfile(f, into / f.name)
    return into


def probe_output(path: Path) -> ProbedOutput:
    """Streams and durations of a rendered MP4, read with PyAV (no ffprobe ships here)."""
    import av

    try:
        with av.open(str(path)) as c:
            v = c.streams.video[0] if c.streams.video else None
            a = c.streams.audio[0] if c.streams.audio else None
            if v is None:
                raise RenderError(f"{path.name}: no video stream in the output")
            rate = float(v.average_rate or v.guessed_rate or 0)
            vdur = float(v.duration * v.time_base) if v.duration else (v.frames / rate if rate else 0.0)
            adur = float(a.duration * a.time_base) if a is not None and a.duration else None
            return ProbedOutput(
                duration=(c.duration or 0) / 1_000_000, video_duration=vdur,
                width=v.codec_context.width, height=v.codec_context.height, fps=rate,
                video_codec=v.codec_context.name,
                audio_codec=a.codec_context.name if a is not None else None, audio_duration=adur,
                sample_rate=a.codec_context.sample_rate if a is not None else None,
                channels=a.codec_context.channels if a is not None else None,
            )
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise RenderError(f"{path.name}: the output does not probe: {exc}") from exc


def verify_output(path: Path, width: int, height: int, duration: float, fps: float) -> ProbedOutput:
    """Probe `path` and raise RenderError unless it is H.264 + AAC of the expected size and its
    video lasts `duration` seconds to within one frame."""
    info = probe_output(path)
    frame = 1.0 / fps if fps else 0.04
    problems = []
    if info.video_codec != "h264":
        problems.append(f"video codec {info.video_codec}")
    if info.audio_codec != "aac":
        problems.append(f"audio codec {info.audio_codec}")
    if (info.width, info.height) != (width, height):
        problems.append(f"size {info.width}x{info.height}, expected {width}x{height}")
    if abs(info.video_duration - duration) > frame + 1e-3:
        problems.append(f"video lasts {info.video_duration:.3f}s, expected {duration:.3f}s")
    if info.audio_duration is not None and abs(info.audio_duration - duration) > frame + 0.05:
        problems.append(f"audio lasts {info.audio_duration:.3f}s, expected {duration:.3f}s")
    if problems:
        raise RenderError(f"{path.name} failed verification: {'; '.join(problems)}")
    return info
