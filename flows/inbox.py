"""The inbox: which footage is there, what its sidecar says, and moving bad files to quarantine.

Footage is identified by sha256, never by name: the store knows which hashes are done. Hashing
gigabytes every night would dominate a no-op run, so hashes are cached per (path, size, mtime)
in a small JSON file in the workspace; a changed file is always re-hashed.

A sidecar `<media file name>.yaml` beside a file registers it:

    interviewee: Witness K      # pseudonym; without one the file goes to "unassigned"
    language: en                # hint for transcription (ISO code)
    recorded: 2026-01-15        # as entered, not parsed further
    place: Amman
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clips_metadata.workspace import Workspace
from pipeline.atomic import file_sha256, temp_pid, write_json_atomic, write_text_atomic
from pipeline.atomic import pid_alive as _pid_alive
from pipeline.errors import CounterclipsError
from pipeline.media import check_media_file

SIDECAR_SUFFIX = ".yaml"
SIDECAR_KEYS = ("interviewee", "language", "recorded", "place", "interviewer_first")
MEDIA_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mts", ".mxf",
                    ".mp3", ".wav", ".flac", ".m4a", ".aac", ".ogg", ".opus")
HASH_CACHE_NAME = ".inbox-sha256.json"
REASON_SUFFIX = ".reason.txt"


class SidecarError(CounterclipsError):
    """A sidecar YAML file cannot be read or holds the wrong keys."""


class QuarantineError(CounterclipsError):
    """A file could not be moved into quarantine."""


@dataclass(frozen=True, slots=True)
class Sidecar:
    """What the operator wrote beside a media file. Empty strings mean "not given"."""

    interviewee: str = ""
    language: str = ""
    recorded: str = ""
    place: str = ""
    interviewer_first: str = ""  # "true"/"yes"/"1": the first voice is the interviewer's

    @property
    def interviewer_speaks_first(self) -> bool:
        return self.interviewer_first.strip().lower() in {"true", "yes", "1", "on"}


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One media file found in the inbox. `size` in bytes, `mtime` in seconds since the epoch."""

    path: Path
    sha256: str
    size: int
    mtime: float
    sidecar: Sidecar | None = None

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class InboxProblem:
    """A file the scan could not accept, and why (bad sidecar, unreadable)."""

    path: Path
    reason: str


@dataclass(frozen=True, slots=True)
class InboxScan:
    items: tuple[InboxItem, ...] = ()
    problems: tuple[InboxProblem, ...] = ()
    ignored: tuple[Path, ...] = ()  # not footage by extension; left alone
    unsettled: tuple[Path, ...] = ()  # modified too recently; the next run takes them


@dataclass(frozen=True, slots=True)
class InboxOptions:
    """How the inbox is scanned.

    extensions: file suffixes treated as footage (lower case). Others are listed as ignored
        rather than quarantined, so an operator's notes file is left alone.
    settle_seconds: skip files modified less than this long ago; an upload still in progress
        would otherwise be hashed half-written. 60 s suits a nightly run; tests and the demo use 0.
    recursive: also look in sub-folders (operators often drop a folder per interviewee).
    """

    extensions: tuple[str, ...] = MEDIA_EXTENSIONS
    settle_seconds: float = 60.0
    recursive: bool = True


def sidecar_path(media: Path) -> Path:
    return media.with_name(media.name + SIDECAR_SUFFIX)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):  # YAML turns 2026-01-15 into a date
        return value.isoformat()
    return str(value).strip()


def read_sidecar(path: Path) -> Sidecar:
    """Parse one sidecar. Raises SidecarError naming the file and the problem."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SidecarError(f"{path.name}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise SidecarError(f"{path.name}: not valid YAML ({first})") from None
    if data is None:
        return Sidecar()
    allowed = ", ".join(SIDECAR_KEYS)
    if not isinstance(data, dict):
        raise SidecarError(f"{path.name}: expected keys {allowed}, found a {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in SIDECAR_KEYS)
    if unknown:
        raise SidecarError(f"{path.name}: unknown keys {', '.join(unknown)} (allowed: {allowed})")
    return Sidecar(**{k: _text(data.get(k)) for k in SIDECAR_KEYS})


class HashCache:
    """sha256 per (relative path, size, mtime_ns), persisted in the workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, list[Any]] = {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._entries = loaded
        except (OSError, ValueError):
            pass  # a missing or damaged cache only costs re-hashing
        self._dirty = False

    def sha256(self, key: str, path: Path, st: os.stat_result) -> str:
        hit = self._entries.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return str(hit[2])
        digest = file_sha256(check_media_file(path))
        self._entries[key] = [st.st_size, st.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def prune(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for key in [k for k in self._entries if k not in keep]:
            del self._entries[key]
            self._dirty = True

    def save(self) -> None:
        if self._dirty:
            write_json_atomic(self.path, self._entries, sort_keys=True)
            self._dirty = False


def _walk(inbox: Path, recursive: bool) -> list[Path]:
    if not inbox.is_dir():
        return []
    found: list[Path] = []
    for root, dirs, files in os.walk(inbox):
        # Hidden names are uploads in progress, editor swap files and our own temp files.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        found.extend(Path(root) / f for f in sorted(files) if not f.startswith("."))
    return found


def scan_inbox(workspace: Workspace, options: InboxOptions = InboxOptions(),
               now: float | None = None) -> InboxScan:
    """Every footage file in `workspace.inbox` with its sha256 and sidecar."""
    now = time.time() if now is None else now
    cache = HashCache(workspace.root / HASH_CACHE_NAME)
    items: list[InboxItem] = []
    problems: list[InboxProblem] = []
    ignored: list[Path] = []
    unsettled: list[Path] = []
    seen: list[str] = []
    exts = tuple(e.lower() for e in options.extensions)
    for path in _walk(workspace.inbox, options.recursive):
        if path.name.endswith(SIDECAR_SUFFIX) or path.name.endswith(REASON_SUFFIX):
            continue
        if path.suffix.lower() not in exts:
            ignored.append(path)
            continue
        try:
            st = path.stat()
        except OSError:
            continue  # vanished between listing and stat: nothing to do with it tonight
        if now - st.st_mtime < options.settle_seconds:
            unsettled.append(path)
            continue
        key = str(path.relative_to(workspace.inbox))
        seen.append(key)
        sidecar: Sidecar | None = None
        side = sidecar_path(path)
        if side.is_file():
            try:
                sidecar = read_sidecar(side)
            except SidecarError as exc:
                problems.append(InboxProblem(path, str(exc)))
                continue
        try:
            digest = cache.sha256(key, path, st)
        except (OSError, CounterclipsError) as exc:
            problems.append(InboxProblem(path, f"{path.name}: cannot be read ({exc})"))
            continue
        items.append(InboxItem(path=path, sha256=digest, size=st.st_size, mtime=st.st_mtime,
                               sidecar=sidecar))
    cache.prune(seen)
    cache.save()
    return InboxScan(items=tuple(items), problems=tuple(problems), ignored=tuple(ignored),
                     unsettled=tuple(unsettled))


def _free_name(directory: Path, name: str, tag: str) -> Path:
    target = directory / name
    if not target.exists():
        return target
    stem, suffix = os.path.splitext(name)
    target = directory / f"{stem}.{tag}{suffix}"
    n = 2
    while target.exists():
        target = directory / f"{stem}.{tag}-{n}{suffix}"
        n += 1
    return target


def quarantine_file(workspace: Workspace, path: Path, reason: str, sha256: str = "",
                    run_id: str = "") -> Path:
    """Move `path` (and its sidecar) from the inbox to quarantine/, with `<name>.reason.txt`.

    The reason file is written first, atomically: a run killed halfway leaves the media in the
    inbox (so the next run retries it and rewrites the reason), never a media file without its
    reason. Returns the media file's new path.
    """
    qdir = workspace.quarantine
    qdir.mkdir(parents=True, exist_ok=True)
    tag = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = _free_name(qdir, path.name, tag)
    lines = [
        f"reason: {reason}",
        f"file: {path.name}",
        f"from: {path}",
        f"sha256: {sha256}" if sha256 else "sha256: (not computed)",
        f"quarantined_at: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"run: {run_id}" if run_id else "",
        "To retry: fix the cause and move the file (and its .yaml sidecar) back into inbox/.",
    ]
    try:
        write_text_atomic(target.with_name(target.name + REASON_SUFFIX),
                          "\n".join(x for x in lines if x) + "\n")
        side = sidecar_path(path)
        shutil.move(str(path), str(target))  # a rename within the workspace's filesystem
        if side.exists():
            shutil.move(str(side), str(sidecar_path(target)))
    except OSError as exc:
        raise QuarantineError(f"{path.name}: cannot move to quarantine ({exc.strerror or exc})") from None
    return target


def quarantined(workspace: Workspace) -> list[tuple[Path, str]]:
    """Files in quarantine with the first line of their reason."""
    out: list[tuple[Path, str]] = []
    if not workspace.quarantine.is_dir():
        return out
    for reason in sorted(workspace.quarantine.glob("*" + REASON_SUFFIX)):
        media = reason.with_name(reason.name[: -len(REASON_SUFFIX)])
        first = reason.read_text(encoding="utf-8").splitlines()[:1]
        out.append((media, first[0].removeprefix("reason: ") if first else ""))
    return out


def sweep_stale_temp(workspace: Workspace, max_age_seconds: float = 3600.0,
                     now: float | None = None) -> list[Path]:
    """Delete temporary files a killed run left behind (never the inbox: uploads live there).

    A temp file of `pipeline.atomic` (its name carries the writer's pid) is removed when that process is
    gone; one without a pid (e.g. `tempfile` names, render work folders) when it is older than
    `max_age_seconds`. Returns what was removed.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    places = [workspace.root, workspace.reports, workspace.proxies, workspace.transcripts,
              workspace.quarantine, workspace.secrets]
    if workspace.exports.is_dir():
        places += [workspace.exports, *(p for p in workspace.exports.iterdir() if p.is_dir())]
    for place in places:
        if not place.is_dir():
            continue
        for p in place.iterdir():
            name = p.name
            if not name.startswith(".") or name in (HASH_CACHE_NAME, ".prefect"):
                continue
            pid = temp_pid(name)
            # Ours carry the writer's pid; `tempfile` names and render work folders only an age.
            if pid is None and ".tmp" not in name and not name.startswith(".render-"):
                continue
            try:
                stale = (pid is not None and pid != os.getpid() and not _pid_alive(pid)) or (
                    pid is None and now - p.stat().st_mtime > max_age_seconds)
            except OSError:
                continue
            if not stale:
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed
