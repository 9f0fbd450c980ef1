"""What the review repositories return: frozen, slotted records (users, audit entries,
exports, queue pages, the candidate page's context and a candidate's review state)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from clips_metadata.stored_records import Candidate, CandidateVersion, StoredWarning
from pipeline.review_facts import ReviewFacts


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One audit entry: who did what, when, from which version to which, with a note."""

    id: int
    candidate_id: int
    actor: str
    action: str
    from_state: str
    to_state: str
    from_version: int | None
    to_version: int | None
    version_hash: str
    note: str
    acknowledged_risks: tuple[str, ...]
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "candidate_id": self.candidate_id, "actor": self.actor,
            "action": self.action, "from_state": self.from_state, "to_state": self.to_state,
            "from_version": self.from_version, "to_version": self.to_version,
            "version_hash": self.version_hash, "note": self.note,
            "acknowledged_risks": list(self.acknowledged_risks),
            "at": self.created_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True, slots=True)
class ExportRecord:
    id: int
    candidate_id: int
    version: int
    version_hash: str
    profile: str
    language: str
    paths: tuple[str, ...]
    output_sha256: str
    manifest_path: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = ""
    theme: str = ""
    risk: str = ""
    interview: int | None = None
    language: str = ""
    waiting_for: str = ""  # a reviewer's name: open, not edited by them, not approved by them yet
    edited_by: str = ""  # a user's name: candidates they edited


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: int
    interview_id: int
    pseudonym: str
    language: str
    status: str
    version: int
    start: float
    end: float
    rank: float
    themes: tuple[str, ...]
    risks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue. Pages are keyset cursors, not numbers: `next_after` and
    `prev_before` ("" at either end) name the last and first row shown, so a page costs the same
    at the millionth row as at the first. `total` may lag writes by `QueueRepo.COUNT_TTL`; None
    when the page was asked for without a count."""

    items: tuple[QueueItem, ...]
    total: int | None
    per_page: int
    next_after: str = ""
    prev_before: str = ""


@dataclass(frozen=True, slots=True)
class SentenceView:
    """A transcript sentence with its labels, the reasons for them and its English translation."""

    index: int
    start: float
    end: float
    text: str
    translation: str
    labels: tuple[str, ...]
    why: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    words: tuple[tuple[float, float, str], ...] = field(default=(), hash=False, compare=False)
    # Diarization's label of the sentence's words (a sentence never spans a speaker change).
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class InterviewContext:
    """What the candidate page shows around a candidate: the whole interview's sentences."""

    interview_id: int
    pseudonym: str
    language: str
    duration: float
    source_sha256: str
    sentences: tuple[SentenceView, ...]
    warnings: tuple[StoredWarning, ...]


@dataclass(frozen=True, slots=True)
class ReviewChange:
    """What a review decision writes: the audit entry, the new status and maybe an approval."""

    action: str
    actor: str
    to_state: str
    note: str = ""
    acknowledged_risks: tuple[str, ...] = ()
    records_approval: bool = False
    # Further writes in the same transaction (session, audit event id), e.g. the approved plan.
    also: Callable[[Session, int], None] | None = None


@dataclass(frozen=True, slots=True)
class CandidatePage:
    """Everything the candidate page shows, read in one transaction with one query per panel."""

    candidate: Candidate
    context: InterviewContext
    state: ReviewFacts
    history: tuple[ReviewEvent, ...]
    versions: tuple[CandidateVersion, ...]
