"""Secret keys kept in the workspace (session cookies, export authorisations)."""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError

KEY_BYTES = 32
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


class KeyFileError(CounterclipsError):
    """A key file is unreadable, too short or has unsafe permissions."""


def key_path(workspace: Workspace, name: str) -> Path:
    if not _NAME.match(name):
        raise KeyFileError(f"invalid key name {name!r}")
    return workspace.secrets / f"{name}.key"


def load_or_create_key(workspace: Workspace, name: str) -> bytes:
    """Return the named key (32 random bytes), creating it once with mode 0600.

    Creation is atomic and race-free: the key is written to a private temporary file and
    hard-linked to its final name, so a concurrent creator either wins or reads the winner's key.
    """
    path = key_path(workspace, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")
    data = path.read_bytes()
    if len(data) < KEY_BYTES:
        raise KeyFileError(f"key file {path} is too short")
    return data
