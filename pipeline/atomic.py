"""Atomic file writes: a reader, or a run killed mid-write, never sees half a file.

One temp naming scheme for every writer: `.<stem>.<pid>-<n>.part<suffix>` next to the final file
(the suffix kept so ffmpeg still picks the right muxer). `temp_pid` reads the writer's pid back,
so a sweep removes the temp files of writers that are gone and leaves live ones alone.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PART = ".part"
_COUNTER = itertools.count()
_TEMP = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d{1,9})(?:-\d+)?\.part(?P<suffix>\.[^.]+)?$")


def temp_path(final: Path) -> Path:
    """The temp name a writer of `final` uses (unique per process and call)."""
    return final.with_name(f".{final.stem}.{os.getpid()}-{next(_COUNTER)}{PART}{final.suffix}")


def temp_pid(name: str) -> int | None:
    """The writer's pid in a temp file name of this scheme, or None when `name` is not one."""
    m = _TEMP.match(name)
    return int(m.group("pid")) if m else None


def temps_of(final: Path) -> Iterator[Path]:
    """The temp files of `final` in its folder (any writer, alive or not)."""
    for p in final.parent.glob(f".{final.stem}.*{PART}{final.suffix}"):
        m = _TEMP.match(p.name)
        if m and m.group("stem") == final.stem:
            yield p


def commit(temp: Path, final: Path) -> Path:
    """fsync `temp`, rename it over `final` (atomic on one filesystem), fsync the folder."""
    with open(temp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(temp, final)
    try:
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename is done all the same
    return final


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield the temp path to write; on success it is committed over `path`, on any error removed."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(final)
    try:
        yield temp
        commit(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


PRIVATE = 0o600  # transcripts and other files only the workspace's owner may read


def write_text_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8",
                      mode: int = 0o644) -> Path:
    """Write `text` atomically (mode 0644 by default: a player or web server may read it; pass
    `mode=PRIVATE` for transcripts). The temp file is private from its creation on."""
    with atomic_path(path) as temp:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
        os.chmod(temp, mode)
    return Path(path)


def write_json_atomic(path: str | os.PathLike[str], obj: Any, *, sort_keys: bool = False,
                      mode: int = 0o644) -> Path:
    """Write `obj` as indented UTF-8 JSON atomically (dates and other objects as strings)."""
    return write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=sort_keys,
                                              default=str) + "\n", mode=mode)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file's bytes."""
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs: a temp file named after a dead writer is a leftover."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True
