"""The one place that executes ffmpeg: argv lists, no shell, no stdin, progress parsed from
`-progress pipe:1`, and a RenderError carrying the tail of stderr when it fails."""

from __future__ import annotations

import collections
import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache, partial

from pipeline.errors import RenderError

Progress = Callable[[float], None]  # called with seconds of output written so far
STDERR_TAIL_LINES = 40
_PR_SET_PDEATHSIG = 1


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """imageio-ffmpeg's static ffmpeg (libass, harfbuzz, fribidi, rubberband), found lazily."""
    override = os.environ.get("COUNTERCLIPS_FFMPEG")
    if override:
        return override
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RenderError("imageio-ffmpeg is not installed, so no ffmpeg is available") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _in_child(niceness: int) -> None:  # pragma: no cover - runs in the child between fork and exec
    _die_with_parent()
    if niceness > 0:
        os.nice(niceness)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # If the Python process is killed (even SIGKILL), the kernel kills ffmpeg too, so an orphan
    # never finishes a temporary file behind our back.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def with_progress(argv: Sequence[str]) -> list[str]:
    """argv with `-nostdin -progress pipe:1 -nostats` right after the executable."""
    argv = list(argv)
    extra = [a for a in ("-nostdin",) if a not in argv]
    if "-progress" not in argv:
        extra += ["-progress", "pipe:1", "-nostats"]
    return argv[:1] + extra + argv[1:]


def parse_progress_line(line: str) -> float | None:
    """Seconds written, from one `key=value` line of ffmpeg's progress output (else None)."""
    key, _, value = line.strip().partition("=")
    if key in ("out_time_us", "out_time_ms") and value.strip().lstrip("-").isdigit():
        # ffmpeg reports microseconds under both names (out_time_ms is a historic misnomer).
        return max(0.0, int(value) / 1_000_000)
    return None


class RenderFailed(RenderError):
    """ffmpeg exited with an error; `stderr_tail` holds its last lines."""

    def __init__(self, code: int, stderr_tail: list[str], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.stderr_tail = stderr_tail


def run_ffmpeg(argv: Sequence[str], progress: Progress | None = None,
               on_start: Callable[[subprocess.Popen[str]], None] | None = None,
               niceness: int = 0) -> list[str]:
    """Run ffmpeg to completion and return the last lines of its stderr. `argv[0]` is the
    executable. Raises RenderFailed (a RenderError) naming the exit code with stderr's last
    lines. `on_start` receives the child process (the benchmark watches its memory with it).
    `niceness` > 0 runs ffmpeg at that lower CPU priority (background work beside a transcription)."""
    argv = with_progress(argv)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, never a shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace",  # noqa: PLW1509 - preexec: prctl and nice only
            preexec_fn=partial(_in_child, niceness),
        )
    except OSError as exc:
        raise RenderError(f"cannot start ffmpeg ({argv[0]}): {exc}") from exc

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip():
                tail.append(line.rstrip())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        if on_start is not None:
            on_start(proc)
        assert proc.stdout is not None
        for line in proc.stdout:
            seconds = parse_progress_line(line)
            if seconds is not None and progress is not None:
                progress(seconds)
        code = proc.wait()
    except BaseException:
        # KeyboardInterrupt or a failing callback: do not leave ffmpeg running.
        proc.kill()
        proc.wait()
        raise
    finally:
        reader.join(timeout=5)
    if code != 0:
        detail = " | ".join(list(tail)[-6:]) or "no output"
        raise RenderFailed(code, list(tail), f"ffmpeg exited with code {code}: {detail}")
    return list(tail)
