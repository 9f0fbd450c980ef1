"""Distribution log and withdrawal: which published copies and export folders a withdrawal affects.

Pure except the two writers, which write atomically. Rows carry pseudonyms, ids, platforms, URLs
and hashes; never a real name (the writers check against the protected terms they are given).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.atomic import write_text_atomic
from pipeline.timeline.neutral_names import check_no_protected
from pipeline.timeline.records import ExportEntry, Publication, TakedownRow

TAKEDOWN_COLUMNS = tuple(f.name for f in fields(TakedownRow))
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def takedown_stamp(now: datetime) -> str:
    """A file-name-safe UTC stamp for takedown lists, e.g. 20261203T053000Z."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def utc_iso(value: str | datetime | None, now: datetime) -> str:
    """A date or time as ISO 8601 UTC ("2026-12-03T05:30:00Z"); None means `now`.

    A date without time is midnight UTC; a time without zone is taken as UTC.
    Raises ValueError with the text it could not read.
    """
    if value is None:
        moment = now
    elif isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO date or time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_publication(
    export: ExportEntry, platform: str, url: str, now: datetime, at: str | datetime | None = None
) -> Publication:
    """A publication record of `export`, checked: a platform name, an http(s) URL, a real date
    not in the future. Raises ValueError naming what is wrong."""
    platform = platform.strip()
    if not platform or len(platform) > 64 or any(c in platform for c in "\r\n\t"):
        raise ValueError("platform must be a short name (e.g. youtube)")
    parsed = urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in url.strip()):
        raise ValueError(f"not an http(s) URL: {url!r}")
    published = utc_iso(at, now)
    if published > utc_iso(now, now):
        raise ValueError(f"publication date {published} is in the future")
    return Publication(
        export_id=export.export_id,
        candidate_id=export.candidate_id,
        version=export.version,
        platform=platform.lower(),
        url=url.strip(),
        published_at=published,
        file_sha256=export.file_sha256,
    )


def open_publications(publications: Iterable[Publication]) -> tuple[Publication, ...]:
    """Publications not yet marked taken down, by published date then export id."""
    return tuple(
        sorted((p for p in publications if not p.taken_down_at), key=lambda p: (p.published_at, p.export_id))
    )


def takedown_list(
    publications: Sequence[Publication], exports: Sequence[ExportEntry], interviewee: str
) -> tuple[TakedownRow, ...]:
    """Every recorded publication of `interviewee`'s exports, then every export folder of theirs.

    A publication belongs to the person through its export (matched by export id, and by file
    sha256 when the id is unknown). Publications come first by date; closed ones stay in the
    list as "taken down" so the list is a complete record.
    """
    mine = [e for e in exports if e.interviewee == interviewee]
    by_id = {e.export_id: e for e in mine}
    by_sha = {e.file_sha256: e for e in mine if e.file_sha256}
    rows: list[TakedownRow] = []
    for pub in sorted(publications, key=lambda p: (p.published_at, p.export_id, p.platform, p.url)):
        export = by_id.get(pub.export_id) or by_sha.get(pub.file_sha256)
        if export is not None:
            rows.append(_takedown_row(interviewee, export, pub))
    for export in sorted(mine, key=lambda e: (e.candidate_id, e.version, e.export_id)):
        rows.append(_takedown_row(interviewee, export, None))
    return tuple(rows)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _takedown_row(interviewee: str, export: ExportEntry, pub: Publication | None) -> TakedownRow:
    """The row of one publication of `export`, or (`pub` None) of the export folder itself; a
    publication's ids and hash are its own (it may match its export by sha256 alone)."""
    src: Publication | ExportEntry = pub or export
    return TakedownRow(
        kind="export" if pub is None else "publication",
        interviewee=interviewee,
        candidate_id=src.candidate_id,
        version=src.version,
        export_id=src.export_id,
        platform=pub.platform if pub else "",
        url=pub.url if pub else "",
        published_at=pub.published_at if pub else "",
        folder=export.folder,
        file_name=export.file_name,
        file_sha256=src.file_sha256,
        status="taken down" if pub and pub.taken_down_at else "open",
        taken_down_at=(pub.taken_down_at or "") if pub else "",
    )


def takedown_csv(rows: Sequence[TakedownRow]) -> str:
    """The rows as CSV with a header, every cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TAKEDOWN_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(getattr(row, c)) for c in TAKEDOWN_COLUMNS])
    return buffer.getvalue()


def takedown_json(rows: Sequence[TakedownRow], interviewee: str, stamp: str, reason: str = "") -> str:
    """The rows as a JSON document with who (pseudonym), when and why."""
    doc = {
        "interviewee": interviewee,
        "created": stamp,
        "reason": reason,
        "open": sum(1 for r in rows if r.status == "open"),
        "items": [asdict(r) for r in rows],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def write_takedown(
    rows: Sequence[TakedownRow],
    reports_dir: str | os.PathLike[str],
    stamp: str,
    interviewee: str,
    reason: str = "",
    protected_terms: Iterable[str] = (),
) -> tuple[Path, Path]:
    """Write `takedown-<stamp>.csv` and `.json` in `reports_dir` atomically; return both paths.

    `stamp` is a file-name-safe UTC time such as 20261203T053000Z. Raises ProtectedNameError
    (writing nothing) when any text would carry a protected term.
    """
    if not stamp or any(c in stamp for c in "/\\\0") or stamp.startswith("."):
        raise ValueError(f"unsafe takedown stamp {stamp!r}")
    csv_text = takedown_csv(rows)
    json_text = takedown_json(rows, interviewee, stamp, reason)
    terms = tuple(protected_terms)
    check_no_protected([csv_text, json_text], terms, "the takedown list")
    base = Path(reports_dir)
    csv_path = write_text_atomic(base / f"takedown-{stamp}.csv", csv_text)
    json_path = write_text_atomic(base / f"takedown-{stamp}.json", json_text)
    return csv_path, json_path


def open_takedowns(
    publications: Sequence[Publication], exports: Sequence[ExportEntry], withdrawn: Iterable[str]
) -> tuple[TakedownRow, ...]:
    """The publications still online of every withdrawn interviewee (pseudonyms): what the
    nightly report lists until each is marked taken down."""
    rows: list[TakedownRow] = []
    for pseudonym in sorted(set(withdrawn)):
        listed = takedown_list(publications, exports, pseudonym)
        rows.extend(r for r in listed if r.kind == "publication" and r.status == "open")
    return tuple(rows)
