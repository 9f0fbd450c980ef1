"""What the store returns: frozen, slotted records. ORM models never leave `clips_metadata`.

Times are float seconds; datetimes are timezone-aware UTC; dates are `datetime.date`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pipeline.labels import CANDIDATE_STATUSES as _STATUSES
from pipeline.records import CredibilityWarning

# Footage with no sidecar is filed under this pseudonym; the export gate refuses its clips
# until someone assigns the interview to a registered interviewee.
UNASSIGNED = "unassigned"

# A consent list holding this entry allows every language or platform.
ANY = "*"

# Candidate statuses the store knows (pipeline.labels); the review state machine decides transitions.
CANDIDATE_STATUSES = _STATUSES

# Steps of ingesting one file, in order; each persists its result with its step row.
INGEST_STEPS = ("probe", "transcribe", "diarize", "flag", "propose")


@dataclass(frozen=True, slots=True)
class Consent:
    """What an interviewee agreed to. Empty language/platform lists allow nothing (fail closed);
    the entry `"*"` allows all. `expires` None means no expiry date was given."""

    face: bool = False
    voice: bool = False
    name: bool = False
    languages: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    expires: date | None = None

    def allows_language(self, language: str) -> bool:
        return ANY in self.languages or language.lower() in (x.lower() for x in self.languages)

    def allows_platform(self, platform: str) -> bool:
        return ANY in self.platforms or platform.lower() in (x.lower() for x in self.platforms)

    def expired(self, on: date) -> bool:
        """True when consent has lapsed on day `on` (the expiry day itself is still covered)."""
        return self.expires is not None and on > self.expires


@dataclass(frozen=True, slots=True)
class Interviewee:
    """A person in the registry. `pseudonym` is what appears on screen; `real_names` and
    `identifying_words` are what redaction must hide."""

    id: int
    pseudonym: str
    real_names: tuple[str, ...]
    identifying_words: tuple[str, ...]
    is_public: bool
    consent: Consent
    notes: str
    created_at: datetime

    @property
    def is_unassigned(self) -> bool:
        return self.pseudonym == UNASSIGNED


@dataclass(frozen=True, slots=True)
class Interview:
    """One source media file, identified by its sha256. `duration` in seconds."""

    id: int
    interviewee_id: int
    pseudonym: str
    source_path: str
    sha256: str
    size: int
    duration: float
    container: str
    language: str
    recorded: str  # as entered by the operator; not parsed
    place: str
    status: str  # "ingesting" | "ready" | "failed"
    error: str
    replaces_id: int | None  # an earlier interview from the same path whose file changed
    created_at: datetime
    media: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class TranscriptInfo:
    """One stored transcription of an interview; `version` counts from 1 per interview."""

    id: int
    interview_id: int
    version: int
    backend: str
    model: str
    language: str
    language_probability: float
    duration: float
    body_path: str
    created_at: datetime


StoredWarning = CredibilityWarning  # as stored: `risks` is not kept, only the highest `risk`


@dataclass(frozen=True, slots=True)
class IngestState:
    """Which ingest steps are done for one interview."""

    interview_id: int
    done: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return all(s in self.done for s in INGEST_STEPS)

    @property
    def next_step(self) -> str | None:
        return next((s for s in INGEST_STEPS if s not in self.done), None)


@dataclass(frozen=True, slots=True)
class CandidateVersion:
    """One immutable version of a candidate. `content_hash` is
    `pipeline.authorisation.version_hash(hash_fields)`; approvals bind to it."""

    candidate_id: int
    version: int
    start: float
    end: float
    sentence_indices: tuple[int, ...]
    subtitles: Mapping[str, str]  # language -> subtitle text
    translations: Mapping[str, str]  # language -> translated text
    redactions: tuple[Mapping[str, Any], ...]
    render_options: Mapping[str, Any]
    themes: tuple[str, ...]
    risks: tuple[str, ...]
    rank: float
    reasons: tuple[str, ...]
    content_hash: str
    created_by: str
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate clip in its current version, with its interview's identity for display."""

    id: int
    interview_id: int
    transcript_id: int
    pseudonym: str
    source_sha256: str
    language: str
    status: str
    version: int
    start: float
    end: float
    sentence_indices: tuple[int, ...]
    themes: tuple[str, ...]
    risks: tuple[str, ...]  # includes "credibility" when the interview carries a warning
    rank: float
    reasons: tuple[str, ...]
    content_hash: str
    subtitles: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    translations: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    redactions: tuple[Mapping[str, Any], ...] = field(default=(), hash=False, compare=False)
    render_options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    updated_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict (the `candidates --json` shape)."""
        return {
            "id": self.id,
            "interview": self.interview_id,
            "interviewee": self.pseudonym,
            "transcript": self.transcript_id,
            "language": self.language,
            "status": self.status,
            "version": self.version,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "duration": round(self.end - self.start, 3),
            "sentences": list(self.sentence_indices),
            "themes": list(self.themes),
            "risks": list(self.risks),
            "rank": round(self.rank, 4),
            "reasons": list(self.reasons),
            "content_hash": self.content_hash,
            "subtitles": dict(self.subtitles),
            "translations": dict(self.translations),
        }


def hash_fields(
    source_sha256: str,
    start: float,
    end: float,
    subtitles: Mapping[str, str],
    translations: Mapping[str, str],
    redactions: tuple[Mapping[str, Any], ...] | list[Mapping[str, Any]],
    render_options: Mapping[str, Any],
    cue_tracks: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The fields `version_hash` covers: everything that changes what is shown or heard.
    Review and render code must build the hash from exactly this mapping. `cue_tracks` are the
    version's hashed cue tracks (clips_metadata.cue_tracks_repo) by language; a version without
    any keeps the hash it had before tracks existed."""
    fields: dict[str, Any] = {
        "source_sha256": source_sha256,
        "start": float(start),
        "end": float(end),
        "subtitles": dict(subtitles),
        "translations": dict(translations),
        "redactions": [dict(r) for r in redactions],
        "render_options": dict(render_options),
    }
    if cue_tracks:
        fields["cue_tracks"] = {k: dict(v) for k, v in sorted(cue_tracks.items())}
    return fields
