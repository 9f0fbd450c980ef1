"""The workspace: one directory that holds a deployment's footage, database and outputs."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import overload

ENV_VAR = "COUNTERCLIPS_HOME"
DEFAULT_DIR = Path.home() / "counterclips"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class _Under:
    """A path under the workspace root, read as an attribute (`ws.inbox`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, ws: None, owner: type | None = None) -> _Under: ...

    @overload
    def __get__(self, ws: Workspace, owner: type | None = None) -> Path: ...

    def __get__(self, ws: Workspace | None, owner: type | None = None) -> Path | _Under:
        return self if ws is None else ws.root / self.name


@dataclass(frozen=True, slots=True)
class Workspace:
    """Paths inside one workspace. Nothing is created until `ensure()` is called."""

    root: Path

    inbox = _Under("inbox")
    database = _Under("counterclips.sqlite3")
    transcripts = _Under("transcripts")
    proxies = _Under("proxies")
    exports = _Under("exports")
    reports = _Under("reports")
    quarantine = _Under("quarantine")
    # Cached face samples per source and range (shared by the review page and exports).
    faces = _Under("faces")
    # Holds the keys that sign sessions and export authorisations (mode 0600).
    secrets = _Under("secrets")

    @property
    def db_url(self) -> str:
        # COUNTERCLIPS_DB_URL points the store at PostgreSQL (or another SQLite file).
        return os.environ.get("COUNTERCLIPS_DB_URL") or f"sqlite:///{self.database}"

    def ensure(self) -> Workspace:
        """Create the folders; the workspace itself is 0700, and the store's SQLite file (created
        here before SQLite does) and existing transcripts are 0600: footage, transcripts and the
        store name real people."""
        self.root.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        make_private(self.root, PRIVATE_DIR)
        for d in (self.inbox, self.transcripts, self.proxies, self.exports, self.reports,
                  self.quarantine, self.secrets):
            d.mkdir(parents=True, exist_ok=True)
        self.secrets.chmod(PRIVATE_DIR)
        make_private(self.transcripts, PRIVATE_DIR)
        for f in self.transcripts.iterdir():
            if f.is_file() and not f.is_symlink():
                make_private(f, PRIVATE_FILE)
        if not os.environ.get("COUNTERCLIPS_DB_URL"):
            private_sqlite_file(self.database)
        return self


def make_private(path: Path, mode: int) -> None:
    """chmod `path` to `mode` when it exists with any other mode."""
    try:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass


def private_sqlite_file(database: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (its -wal and -shm files copy the database's
    mode), and make an existing one and its companions 0600."""
    database.parent.mkdir(parents=True, exist_ok=True)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for p in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))):
        make_private(p, PRIVATE_FILE)


def resolve_workspace(arg: str | os.PathLike[str] | None = None) -> Workspace:
    """`--workspace` wins, then $COUNTERCLIPS_HOME, then ~/counterclips."""
    raw = arg or os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Workspace(Path(raw).expanduser().resolve())
