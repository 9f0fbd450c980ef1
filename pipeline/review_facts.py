"""What the review rules judge: a candidate's review state at its current version and the
approvals recorded for it. The store reads these records (clips_metadata) and the rules and the
export gate judge them (review/), so they live here, where both layers may import them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.labels import CandidateStatus


@dataclass(frozen=True, slots=True)
class ApprovalFact:
    """One approval recorded for a candidate version; `created_at` is when the store wrote it."""

    reviewer: str
    version: int
    version_hash: str
    acknowledged_risks: tuple[str, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReviewFacts:
    """What the rules need to know about a candidate at its current version, read in one
    transaction. `risks` include "credibility" if warned."""

    state: CandidateStatus
    version: int
    version_hash: str
    risks: tuple[str, ...] = ()
    # Every person whose edits are part of this version (pipeline/system authors excluded).
    edited_by: tuple[str, ...] = ()
    approvals: tuple[ApprovalFact, ...] = ()
