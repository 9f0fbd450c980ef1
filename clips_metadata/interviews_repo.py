"""Interviews (one per source file's sha256) and their ingest steps."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clips_metadata import tables as m
from clips_metadata.engine import Repository
from clips_metadata.errors import NotFoundError
from clips_metadata.lookups import interview_row, interviewee_row, mark_step
from clips_metadata.read_memo import remembered
from clips_metadata.rows import interview_record, utc_now
from clips_metadata.serialize import media_to_json
from clips_metadata.stored_records import IngestState, Interview
from pipeline.records import MediaInfo

_PSEUDONYM = sa.select(m.IntervieweeRow.pseudonym).where(m.IntervieweeRow.id == sa.bindparam("id"))


# the interview and its interviewee's pseudonym in one statement (every review page asks)
_WITH_PSEUDONYM = (sa.select(m.InterviewRow, m.IntervieweeRow.pseudonym)
                   .outerjoin(m.IntervieweeRow, m.IntervieweeRow.id == m.InterviewRow.interviewee_id)
                   .where(m.InterviewRow.id == sa.bindparam("id")))


def _pseudonym(s: Session, interviewee_id: int) -> str:
    name = s.scalar(_PSEUDONYM, {"id": interviewee_id})  # built once: the review pages ask often
    return name or ""


def _record(s: Session, row: m.InterviewRow) -> Interview:
    return interview_record(row, _pseudonym(s, row.interviewee_id))


class InterviewRepo(Repository):
    """Interviews of one database."""

    def find_interview(self, sha256: str) -> Interview | None:
        with self.db.read() as s:
            row = s.scalar(sa.select(m.InterviewRow).where(m.InterviewRow.sha256 == sha256))
            return _record(s, row) if row is not None else None

    @remembered
    def get_interview(self, interview_id: int) -> Interview:
        with self.db.read() as s:
            found = s.execute(_WITH_PSEUDONYM, {"id": interview_id}).first()
        if found is None:
            raise NotFoundError(f"no interview with id {interview_id}")
        return interview_record(found[0], found[1] or "")

    def list_interviews(
        self, *, pseudonym: str | None = None, status: str | None = None
    ) -> tuple[Interview, ...]:
        with self.db.read() as s:
            q = sa.select(m.InterviewRow).order_by(m.InterviewRow.id)
            if pseudonym is not None:
                q = q.where(m.InterviewRow.interviewee_id == interviewee_row(s, pseudonym).id)
            if status is not None:
                q = q.where(m.InterviewRow.status == status)
            names = {i: p for i, p in s.execute(sa.select(m.IntervieweeRow.id, m.IntervieweeRow.pseudonym))}
            return tuple(interview_record(r, names.get(r.interviewee_id) or "") for r in s.scalars(q))

    def register_interview(
        self,
        media: MediaInfo,
        interviewee_id: int,
        *,
        language: str = "",
        recorded: str = "",
        place: str = "",
    ) -> tuple[Interview, bool]:
        """The interview for `media.sha256`, creating it (and the "probe" step) under
        `interviewee_id` if new. Returns (interview, created). A changed file at a known path is
        a new interview that `replaces_id` the old one."""
        existing = self.find_interview(media.sha256)
        if existing is not None:
            return existing, False
        try:
            with self.db.transaction() as s:
                previous = s.scalar(
                    sa.select(m.InterviewRow.id)
                    .where(m.InterviewRow.source_path == media.path)
                    .order_by(m.InterviewRow.id.desc())
                    .limit(1)
                )
                row = m.InterviewRow(
                    interviewee_id=interviewee_id,
                    source_path=media.path,
                    sha256=media.sha256,
                    size=media.size,
                    duration=media.duration,
                    container=media.container,
                    language=language or "",
                    recorded=recorded or "",
                    place=place or "",
                    status="ingesting",
                    error="",
                    replaces_id=previous,
                    media=media_to_json(media),
                    created_at=utc_now(),
                )
                s.add(row)
                s.flush()
                mark_step(s, row.id, "probe", {"duration": media.duration})
                return _record(s, row), True
        except IntegrityError:
            # Another process registered the same sha256 between our check and insert.
            again = self.find_interview(media.sha256)
            if again is None:
                raise
            return again, False

    def assign_interview(self, interview_id: int, pseudonym: str) -> Interview:
        """Move an interview (e.g. from "unassigned") to a registered interviewee."""
        with self.db.transaction() as s:
            row = interview_row(s, interview_id)
            row.interviewee_id = interviewee_row(s, pseudonym).id
            s.flush()
            return _record(s, row)

    def set_interview_status(self, interview_id: int, status: str, error: str = "") -> Interview:
        """`status`: "ingesting" | "ready" | "failed" (with a one-line `error`)."""
        with self.db.transaction() as s:
            row = interview_row(s, interview_id)
            row.status = status
            row.error = error
            s.flush()
            return _record(s, row)

    def set_interview_language(self, interview_id: int, language: str) -> None:
        with self.db.transaction() as s:
            interview_row(s, interview_id).language = language

    def ingest_state(self, interview_id: int) -> IngestState:
        with self.db.read() as s:
            steps = s.scalars(
                sa.select(m.IngestStepRow.step).where(m.IngestStepRow.interview_id == interview_id)
            )
            return IngestState(interview_id, tuple(sorted(steps)))

    def step_detail(self, interview_id: int, step: str) -> dict[str, Any] | None:
        """What a finished ingest step recorded (e.g. its transcript_id), or None if not done."""
        with self.db.read() as s:
            row = s.get(m.IngestStepRow, (interview_id, step))
            return dict(row.detail) if row is not None else None
