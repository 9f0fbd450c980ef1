"""Row-level pieces that `store.py` and `review_store.py` both need: UTC timestamps, the
row→record converters of records read by both, and the candidate filter of every candidate
query (the store's list and count, the review queue and its count)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from clips_metadata.stored_records import Consent, Interviewee, StoredWarning
from clips_metadata.tables import CandidateLabelRow, CandidateRow, IntervieweeRow, InterviewRow, WarningRow


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; we only ever write UTC.
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


def consent_record(r: IntervieweeRow) -> Consent:
    return Consent(
        face=r.consent_face,
        voice=r.consent_voice,
        name=r.consent_name,
        languages=tuple(r.consent_languages),
        platforms=tuple(r.consent_platforms),
        expires=r.consent_expires if isinstance(r.consent_expires, date) else None,
    )


def interviewee_record(r: IntervieweeRow) -> Interviewee:
    return Interviewee(
        id=r.id,
        pseudonym=r.pseudonym,
        real_names=tuple(r.real_names),
        identifying_words=tuple(r.identifying_words),
        is_public=r.is_public,
        consent=consent_record(r),
        notes=r.notes,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
    )


def warning_record(r: WarningRow) -> StoredWarning:
    return StoredWarning(r.risk, r.idx, r.start, r.end, r.text)


def candidate_filters(
    *,
    status: str | None = None,
    interview_id: int | None = None,
    theme: str | None = None,
    risk: str | None = None,
    language: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for the given filters (None: no filter). They stay on `candidates`
    (IN-subqueries on small indexed sets), so SQLite can use ix_candidates_status_rank for
    status + rank order and a count needs no join."""
    where: list[sa.ColumnElement[bool]] = []
    if status is not None:
        where.append(CandidateRow.status == status)
    if interview_id is not None:
        where.append(CandidateRow.interview_id == interview_id)
    if language is not None:
        where.append(
            CandidateRow.interview_id.in_(sa.select(InterviewRow.id).where(InterviewRow.language == language))
        )
    for kind, label in (("theme", theme), ("risk", risk)):
        if label is not None:
            where.append(
                CandidateRow.id.in_(
                    sa.select(CandidateLabelRow.candidate_id).where(
                        CandidateLabelRow.kind == kind, CandidateLabelRow.label == label
                    )
                )
            )
    return where



def question_card_json(question: Any) -> dict[str, Any]:
    """A `pipeline.candidates.QuestionCard` as stored in a candidate version's render options."""
    return {"text": str(question.text), "start": round(float(question.start), 3),
            "end": round(float(question.end), 3), "speaker": question.speaker, "kind": str(question.kind)}
