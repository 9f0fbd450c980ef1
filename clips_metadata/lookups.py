"""Statements several repositories run inside their own transaction: fetching a row by its key
(raising NotFoundError), marking an ingest step done, and writing a candidate's label rows.
They take the caller's session, so a step's result and its step row commit together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clips_metadata import tables as m
from clips_metadata.errors import NotFoundError
from clips_metadata.rows import utc_now

T = TypeVar("T")


def _by_key(s: Session, model: type[T], key: object, missing: str) -> T:
    row = s.get(model, key)
    if row is None:
        raise NotFoundError(missing)
    return row


def interviewee_row(s: Session, pseudonym: str) -> m.IntervieweeRow:
    row = s.scalar(sa.select(m.IntervieweeRow).where(m.IntervieweeRow.pseudonym == pseudonym))
    if row is None:
        raise NotFoundError(f"no interviewee {pseudonym!r}; add one with `counterclips interviewee add`")
    return row


def interview_row(s: Session, interview_id: int) -> m.InterviewRow:
    return _by_key(s, m.InterviewRow, interview_id, f"no interview with id {interview_id}")


def transcript_row(s: Session, transcript_id: int) -> m.TranscriptRow:
    return _by_key(s, m.TranscriptRow, transcript_id, f"no transcript with id {transcript_id}")


def candidate_row(s: Session, candidate_id: int) -> m.CandidateRow:
    return _by_key(s, m.CandidateRow, candidate_id, f"no candidate with id {candidate_id}")


def version_row(s: Session, candidate_id: int, version: int) -> m.CandidateVersionRow:
    row = s.scalar(
        sa.select(m.CandidateVersionRow).where(
            m.CandidateVersionRow.candidate_id == candidate_id, m.CandidateVersionRow.version == version
        )
    )
    if row is None:
        raise NotFoundError(f"candidate {candidate_id} has no version {version}")
    return row


def mark_step(s: Session, interview_id: int, step: str, detail: Mapping[str, Any]) -> None:
    """Record ingest `step` of the interview as finished, in the caller's transaction."""
    # Re-running a step (e.g. re-flagging) refreshes its row instead of failing on the key.
    existing = s.get(m.IngestStepRow, (interview_id, step))
    if existing is None:
        s.add(
            m.IngestStepRow(interview_id=interview_id, step=step, detail=dict(detail), finished_at=utc_now())
        )
    else:
        existing.detail = dict(detail)
        existing.finished_at = utc_now()


def set_labels(s: Session, candidate_id: int, themes: Sequence[str], risks: Sequence[str]) -> None:
    """Add the candidate's theme and risk label rows (the queue filters on them)."""
    for kind, labels in (("theme", themes), ("risk", risks)):
        s.add_all(
            m.CandidateLabelRow(candidate_id=candidate_id, kind=kind, label=x) for x in dict.fromkeys(labels)
        )
