"""`manifest.json`: the provenance of one export, written last, after the video verified.

It proves what was approved and by whom, and what was done to protect the speaker, without
carrying what it protects: real names and redacted words are never written here (only when the
bleeps sound), the source is named by sha256 and a neutral id (never its file name, which may
carry a name), and reviewers' notes are left out, because the manifest travels with the clip.

`scan_for_terms` is the check that nothing leaving the system carries a registry term in any
Unicode variant: tests and the export service run it over every output file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.records import Cue
from pipeline.terms import Term, TermMatcher, fold, variants_of

SCHEMA = "counterclips.export/1"


def cue_text_sha256(cues: Sequence[Cue]) -> str:
    """sha256 of the subtitle text as shown (cue lines joined by newlines, cues by blank lines)."""
    return hashlib.sha256("\n\n".join(c.text for c in cues).encode("utf-8")).hexdigest()


# Free text people type about a clip: never copied into what leaves the system.
NOTE_KEYS = frozenset({"note", "notes", "comment", "comments", "message", "reason", "text", "body"})
TEXT_SUFFIXES = frozenset({".srt", ".vtt", ".json", ".txt", ".ass", ".log", ".csv", ".md", ".html"})


def neutral_source_id(sha256: str) -> str:
    """An id for a source that says nothing about it: `source-` and the first 12 hex of its sha256."""
    return f"source-{sha256[:12]}"


def without_notes(value: Any) -> Any:
    """`value` (mappings, sequences, scalars) with every note-like field removed, at any depth."""
    if isinstance(value, Mapping):
        return {k: without_notes(v) for k, v in value.items() if str(k).lower() not in NOTE_KEYS}
    if isinstance(value, list | tuple):
        return [without_notes(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return without_notes({f: getattr(value, f) for f in value.__dataclass_fields__})
    return value


@dataclass(frozen=True, slots=True)
class Finding:
    """A registry term found in an output: which file, where ("name", "text" or "bytes:<codec>"),
    and the index of the term in the list scanned (the term itself is not repeated)."""

    path: Path
    where: str
    term_index: int


def _files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += [p, *sorted(q for q in p.rglob("*"))]
        else:
            out.append(p)
    return out


def scan_for_terms(paths: Iterable[str | os.PathLike[str]], terms: Sequence[str]) -> list[Finding]:
    """Every place a term occurs in the given files or folders (recursively): in file and folder
    names, in text files decoded as UTF-8 (by the same Unicode-robust rule as redaction), and in
    every file's raw bytes as UTF-8, UTF-16-LE and UTF-16-BE for each spelling `variants_of` gives
    (case-insensitive), so metadata inside an MP4 is covered too."""
    matchers = [TermMatcher((Term(t, ""),)) for t in terms]
    raw = [[v.lower() for v in variants_of(t) if len(fold(v)) >= 2] for t in terms]
    findings: list[Finding] = []
    for path in _files(paths):
        name = path.name.replace("_", " ")
        findings += [Finding(path, "name", i) for i, m in enumerate(matchers) if m.find(name)]
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix.lower() in TEXT_SUFFIXES:
            text = data.decode("utf-8", errors="replace")
            findings += [Finding(path, "text", i) for i, m in enumerate(matchers) if m.find(text)]
        lowered = {codec: data.decode(codec, errors="ignore").lower()
                   for codec in ("utf-8", "utf-16-le", "utf-16-be")}
        for i, variants in enumerate(raw):
            for codec, text in lowered.items():
                if any(v in text for v in variants):
                    findings.append(Finding(path, f"bytes:{codec}", i))
    return findings


def _plain(value: Any) -> Any:
    """JSON-safe copy: tuples to lists, dates to ISO strings, unknown objects to str."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {f: _plain(getattr(value, f)) for f in value.__dataclass_fields__}
    return str(value)


def build_manifest(
    *,
    candidate: Mapping[str, Any],
    source: Mapping[str, Any],
    transcript: Mapping[str, Any],
    subtitles: Mapping[str, Mapping[str, Any]],
    redactions: Mapping[str, Any],
    identity: Mapping[str, Any],
    consent: Mapping[str, Any],
    authorisation: Mapping[str, Any],
    approvals: Sequence[Any],
    audit: Sequence[Any],
    render: Mapping[str, Any],
    output: Mapping[str, Any],
    sidecars: Sequence[Mapping[str, Any]],
    cards: Mapping[str, Any],
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The manifest as plain data (see module docstring for what is deliberately left out)."""
    return _plain({
        "schema": SCHEMA,
        "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "candidate": candidate,
        "source": source,
        "transcript": transcript,
        "subtitles": subtitles,
        "redactions": redactions,
        "identity_protection": identity,
        "consent": consent,
        "authorisation": authorisation,
        "approvals": list(approvals),
        "audit": list(audit),
        "render": render,
        "cards": cards,
        "output": output,
        "sidecars": list(sidecars),
    })
