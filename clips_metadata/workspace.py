"""The workspace: one directory that holds a deployment's footage, database and outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "COUNTERCLIPS_HOME"
DEFAULT_DIR = Path.home() / "counterclips"


@dataclass(frozen=True, slots=True)
class Workspace:
    """Paths inside one workspace. Nothing is created until `ensure()` is called."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def database(self) -> Path:
        return self.root / "counterclips.sqlite3"

    @property
    def db_url(self) -> str:
        # COUNTERCLIPS_DB_URL points the store at PostgreSQL (or another SQLite file).
        return os.environ.get("COUNTERCLIPS_DB_URL") or f"sqlite:///{self.database}"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def proxies(self) -> Path:
        return self.root / "proxies"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def faces(self) -> Path:
        """Cached face samples per source and range (shared by the review page and exports)."""
        return self.root / "faces"

    @property
    def secrets(self) -> Path:
        """Holds the keys that sign sessions and export authorisations (mode 0600)."""
        return self.root / "secrets"

    def ensure(self) -> Workspace:
        for d in (self.inbox, self.transcripts, self.proxies, self.exports, self.reports,
                  self.quarantine, self.secrets):
            d.mkdir(parents=True, exist_ok=True)
        self.secrets.chmod(0o700)
        return self


def resolve_workspace(arg: str | os.PathLike[str] | None = None) -> Workspace:
    """`--workspace` wins, then $COUNTERCLIPS_HOME, then ~/counterclips."""
    raw = arg or os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Workspace(Path(raw).expanduser().resolve())
