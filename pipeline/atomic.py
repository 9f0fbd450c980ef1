"""Atomic file writes: a reader, or a run killed mid-write, never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", suffix: str = ".tmp"
) -> Path:
    """Write `text` via a hidden temp file in the same directory, fsync, then rename over `path`.

    `suffix` names the temp file so sweeps of leftovers can recognise it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the file from a player or web server
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs: a temp file named after a dead writer is a leftover."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True
