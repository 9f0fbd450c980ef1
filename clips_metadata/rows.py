"""Row → record converters, one per record, shared by every repository; UTC timestamps; and
the candidate filter of every candidate query (the store's list and count, the review queue and
its count). Converters take rows (and what a row does not hold, e.g. a pseudonym) and never
query."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from clips_metadata import tables as m
from clips_metadata.review_records import (
    ExportRecord,
    ReviewEvent,
    SentenceView,
    User,
)
from clips_metadata.serialize import words_from_json
from clips_metadata.stored_records import (
    Candidate,
    CandidateVersion,
    Consent,
    Interview,
    Interviewee,
    StoredWarning,
    TranscriptInfo,
)
from pipeline.records import Sentence, SentenceFlags
from pipeline.review_facts import ApprovalFact
from pipeline.transcript_io import row_speaker


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; we only ever write UTC.
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


# ------------------------------------------------------------------ registry


def consent_record(r: m.IntervieweeRow) -> Consent:
    return Consent(
        face=r.consent_face,
        voice=r.consent_voice,
        name=r.consent_name,
        languages=tuple(r.consent_languages),
        platforms=tuple(r.consent_platforms),
        expires=r.consent_expires if isinstance(r.consent_expires, date) else None,
    )


def consent_columns(c: Consent) -> dict[str, Any]:
    """The interviewee columns that hold `c` (the inverse of `consent_record`)."""
    return {
        "consent_face": c.face,
        "consent_voice": c.voice,
        "consent_name": c.name,
        "consent_languages": list(c.languages),
        "consent_platforms": list(c.platforms),
        "consent_expires": c.expires,
    }


def interviewee_record(r: m.IntervieweeRow) -> Interviewee:
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


# ---------------------------------------------------------------- interviews


def interview_record(r: m.InterviewRow, pseudonym: str) -> Interview:
    return Interview(
        id=r.id,
        interviewee_id=r.interviewee_id,
        pseudonym=pseudonym,
        source_path=r.source_path,
        sha256=r.sha256,
        size=r.size,
        duration=r.duration,
        container=r.container,
        language=r.language,
        recorded=r.recorded,
        place=r.place,
        status=r.status,
        error=r.error,
        replaces_id=r.replaces_id,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
        media=dict(r.media),
    )


# --------------------------------------------------------------- transcripts


def transcript_info(r: m.TranscriptRow) -> TranscriptInfo:
    return TranscriptInfo(
        id=r.id,
        interview_id=r.interview_id,
        version=r.version,
        backend=r.backend,
        model=r.model,
        language=r.language,
        language_probability=r.language_probability,
        duration=r.duration,
        body_path=r.body_path,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
    )


def sentence_record(r: m.SentenceRow) -> Sentence:
    return Sentence(r.idx, r.start, r.end, r.text, words_from_json(r.words), r.language)


def sentence_view(r: m.SentenceRow, f: m.FlagRow | None) -> SentenceView:
    """A sentence as the candidate page shows it, with its flags (`f`) when flagged."""
    return SentenceView(
        index=r.idx, start=r.start, end=r.end, text=r.text, translation=r.translation or "",
        labels=tuple(f.labels) if f else (), why=dict(f.why or {}) if f else {},
        words=tuple((float(w[0]), float(w[1]), str(w[2])) for w in (r.words or ())),
        speaker=row_speaker(r.words or ()),
    )


def flags_record(r: m.FlagRow) -> SentenceFlags:
    return SentenceFlags(r.text, tuple(r.labels), dict(r.scores), dict(r.why), r.model_version or "")


def warning_record(r: m.WarningRow) -> StoredWarning:
    return StoredWarning(r.risk, r.idx, r.start, r.end, r.text)


# ---------------------------------------------------------------- candidates


def _version_content(v: m.CandidateVersionRow) -> dict[str, Any]:
    # The JSON columns a version record and the current candidate both take from the version.
    return {
        "sentence_indices": tuple(v.sentence_indices),
        "subtitles": dict(v.subtitles),
        "translations": dict(v.translations),
        "redactions": tuple(dict(x) for x in v.redactions),
        "render_options": dict(v.render_options),
        "reasons": tuple(v.reasons),
    }


def _mirrored(r: m.CandidateRow | m.CandidateVersionRow) -> dict[str, Any]:
    # The columns a candidate row mirrors from its newest version (see write_candidate_version).
    return {
        "version": r.version,
        "start": r.start,
        "end": r.end,
        "themes": tuple(r.themes),
        "risks": tuple(r.risks),
        "rank": r.rank,
        "content_hash": r.content_hash,
    }


def version_record(r: m.CandidateVersionRow) -> CandidateVersion:
    return CandidateVersion(
        candidate_id=r.candidate_id,
        created_by=r.created_by,
        note=r.note,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
        **_mirrored(r),
        **_version_content(r),
    )


def candidate_record(
    c: m.CandidateRow, v: m.CandidateVersionRow, sha256: str, language: str, pseudonym: str
) -> Candidate:
    return Candidate(
        id=c.id,
        interview_id=c.interview_id,
        transcript_id=c.transcript_id,
        pseudonym=pseudonym,
        source_sha256=sha256,
        language=language,
        status=c.status,
        updated_by=c.updated_by,
        created_at=as_utc(c.created_at),  # type: ignore[arg-type]
        updated_at=as_utc(c.updated_at),  # type: ignore[arg-type]
        **_mirrored(c),
        **_version_content(v),
    )


# -------------------------------------------------------------------- review


def user_record(r: m.UserRow) -> User:
    return User(r.id, r.name, r.role, bool(r.active), as_utc(r.created_at))  # type: ignore[arg-type]


def event_record(r: m.ReviewEventRow) -> ReviewEvent:
    return ReviewEvent(r.id, r.candidate_id, r.actor, r.action, r.from_state, r.to_state, r.from_version,
                       r.to_version, r.version_hash, r.note, tuple(r.acknowledged_risks or ()),
                       as_utc(r.created_at))  # type: ignore[arg-type]


def approval_record(r: m.ApprovalRow) -> ApprovalFact:
    return ApprovalFact(r.reviewer, r.version, r.version_hash, tuple(r.acknowledged_risks or ()),
                        as_utc(r.created_at))


def export_record(r: m.ExportRow) -> ExportRecord:
    return ExportRecord(r.id, r.candidate_id, r.version, r.version_hash, r.profile, r.language,
                        tuple(r.paths or ()), r.output_sha256, r.manifest_path, r.created_by,
                        as_utc(r.created_at))  # type: ignore[arg-type]


def jsonable(value: Any) -> Any:
    """`value` with tuples as lists and keys as strings, as a JSON column stores it."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def candidate_filters(
    *,
    status: str | None = None,
    interview_id: int | None = None,
    theme: str | None = None,
    risk: str | None = None,
    language: str | None = None,
    probe: Collection[str] = (),
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for the given filters (None: no filter). They stay on `candidates`
    (IN-subqueries on small indexed sets), so the queue can use ix_candidates_status_rank_id for
    status + rank order and a count needs no join. The filters named in `probe` ("theme", "risk",
    "language") are tested row by row with a correlated EXISTS instead: then a page in rank order
    walks the rank index and probes each row, rather than gathering and sorting every candidate
    that matches. Probing pays only when matches are common: for a rare value it walks the whole
    index (`QueueRepo` decides by share)."""
    where: list[sa.ColumnElement[bool]] = []
    if status is not None:
        where.append(m.CandidateRow.status == status)
    if interview_id is not None:
        where.append(m.CandidateRow.interview_id == interview_id)
    if language is not None:
        iv = m.InterviewRow
        if "language" in probe:
            where.append(sa.exists().where(iv.id == m.CandidateRow.interview_id, iv.language == language))
        else:
            where.append(m.CandidateRow.interview_id.in_(sa.select(iv.id).where(iv.language == language)))
    lab = m.CandidateLabelRow
    for kind, label in (("theme", theme), ("risk", risk)):
        if label is None:
            continue
        if kind in probe:
            where.append(
                sa.exists().where(lab.candidate_id == m.CandidateRow.id, lab.kind == kind, lab.label == label)
            )
        else:
            where.append(
                m.CandidateRow.id.in_(sa.select(lab.candidate_id).where(lab.kind == kind, lab.label == label))
            )
    return where


def question_card_json(question: Any) -> dict[str, Any]:
    """A `pipeline.candidates.QuestionCard` as stored in a candidate version's render options."""
    return {"text": str(question.text), "start": round(float(question.start), 3),
            "end": round(float(question.end), 3), "speaker": question.speaker, "kind": str(question.kind)}
