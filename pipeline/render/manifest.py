"""`manifest.json`: the provenance of one export, written last, after the video verified.

It proves what was approved and by whom, and what was done to protect the speaker, without
carrying what it protects: real names and redacted words are never written here (only how many
terms there were and when the bleeps sound), because the manifest travels with the clip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pipeline.records import Cue

SCHEMA = "counterclips.export/1"


def cue_text_sha256(cues: Sequence[Cue]) -> str:
    """sha256 of the subtitle text as shown (cue lines joined by newlines, cues by blank lines)."""
    return hashlib.sha256("\n\n".join(c.text for c in cues).encode("utf-8")).hexdigest()


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
