"""Review: users, the append-only audit log, approvals, exports, and what the candidate page
and the export gate read.

Every review action runs in one transaction that first takes the candidate's write lock, so
concurrent approvals are serialised: none is lost and four-eyes counting is exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clips_metadata.candidates_repo import candidate_query, candidates_by_ids, write_candidate_version
from clips_metadata.engine import Repository, plain_rows
from clips_metadata.errors import NotFoundError, StoreError
from clips_metadata.lookups import candidate_row
from clips_metadata.review_records import (
    CandidatePage,
    ExportRecord,
    InterviewContext,
    ReviewChange,
    ReviewEvent,
    User,
)
from clips_metadata.rows import (
    approval_record,
    candidate_record,
    event_record,
    export_record,
    interviewee_record,
    user_record,
    utc_now,
    version_record,
    warning_record,
)
from clips_metadata.stored_records import Candidate, Interviewee
from clips_metadata.tables import (
    ApprovalRow,
    CandidateRow,
    CandidateVersionRow,
    ConsentVoidRow,
    ExportRow,
    IntervieweeRow,
    InterviewRow,
    ReviewEventRow,
    UserRow,
    WarningRow,
)
from pipeline.labels import ROLES, CandidateStatus
from pipeline.review_facts import ApprovalFact, ReviewFacts

# The candidate page's and an approval's reads, built once: building a statement and its cache
# key cost as much as running it (issue 19). Parameters are bound by name.
_CID = sa.bindparam("cid")
_EDITED_BY = (sa.select(CandidateVersionRow.created_by).distinct()
              .where(CandidateVersionRow.candidate_id == _CID,
                     CandidateVersionRow.created_by.in_(sa.select(UserRow.name))))
# Approvals a consent withdrawal voided stay on record but no longer count.
_VOIDED = sa.select(ConsentVoidRow.ref_id).where(ConsentVoidRow.kind == "approval")
_APPROVALS = (sa.select(ApprovalRow).where(ApprovalRow.candidate_id == _CID, ApprovalRow.id.not_in(_VOIDED))
              .order_by(ApprovalRow.id))
_EXPORTS = sa.select(ExportRow).where(ExportRow.candidate_id == _CID).order_by(ExportRow.id)
_WARNINGS = (sa.select(WarningRow).where(WarningRow.transcript_id == sa.bindparam("tid"))
             .order_by(WarningRow.start))
_PAGE = candidate_query().add_columns(InterviewRow.duration).where(CandidateRow.id == _CID)
_HISTORY = sa.select(ReviewEventRow).where(ReviewEventRow.candidate_id == _CID).order_by(ReviewEventRow.id)
_VERSIONS = (sa.select(CandidateVersionRow).where(CandidateVersionRow.candidate_id == _CID)
             .order_by(CandidateVersionRow.version))


class ReviewRepo(Repository):
    """Review records of one database."""

    # ---- users ----

    def add_user(self, name: str, role: str, password_hash: str) -> User:
        name = name.strip()
        if not name or len(name) > 100 or any(c.isspace() for c in name):
            raise StoreError("user name must be 1-100 characters without spaces")
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r} (editor, reviewer or admin)")
        row = UserRow(name=name, role=role, password_hash=password_hash, active=True, created_at=utc_now())
        return user_record(self.db.add_unique(row, f"user {name!r} already exists"))

    def get_user(self, name: str) -> User | None:
        with self.db.read() as s:
            row = s.scalar(sa.select(UserRow).where(UserRow.name == name))
            return user_record(row) if row else None

    def credentials(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, for login only."""
        with self.db.read() as s:
            row = s.scalar(sa.select(UserRow).where(UserRow.name == name))
            return (user_record(row), row.password_hash) if row else None

    def list_users(self) -> tuple[User, ...]:
        with self.db.read() as s:
            return tuple(user_record(r) for r in s.scalars(sa.select(UserRow).order_by(UserRow.name)))

    def count_admins(self) -> int:
        with self.db.read() as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(UserRow)
                                .where(UserRow.role == "admin", UserRow.active.is_(True))) or 0)

    # ---- review state ----

    def _edited_by(self, s: Session, candidate_id: int) -> tuple[str, ...]:
        """People (user accounts) whose edits are part of the candidate's current content."""
        return tuple(sorted(r[0] for r in plain_rows(s, _EDITED_BY, {"cid": candidate_id})))

    def _approvals(self, s: Session, candidate_id: int) -> tuple[ApprovalFact, ...]:
        return tuple(approval_record(r) for r in plain_rows(s, _APPROVALS, {"cid": candidate_id}))

    def _state(self, s: Session, row: CandidateRow) -> ReviewFacts:
        return ReviewFacts(
            state=CandidateStatus(row.status), version=row.version, version_hash=row.content_hash,
            risks=tuple(row.risks or ()), edited_by=self._edited_by(s, row.id),
            approvals=self._approvals(s, row.id),
        )

    def review_state(self, candidate_id: int) -> ReviewFacts:
        """Status, version, risks, editors and approvals of the candidate, read together."""
        with self.db.read() as s:
            return self._state(s, candidate_row(s, candidate_id))

    def approvals(self, candidate_id: int) -> tuple[ApprovalFact, ...]:
        with self.db.read() as s:
            return self._approvals(s, candidate_id)

    # ---- acting ----

    def apply_review(self, candidate_id: int, decide: Callable[[ReviewFacts], ReviewChange]) -> ReviewChange:
        """Read the candidate's review state, let `decide` (the rules, in review/) say what
        happens, and write the status, the audit entry and any approval in one transaction.

        The candidate's write lock is taken before reading, so concurrent calls are serialised
        and each `decide` sees every approval committed before it. `decide` raises to refuse.
        """
        return self._retry(lambda: self._apply_once(candidate_id, decide))

    def _retry(self, fn: Callable[[], ReviewChange], attempts: int = 10) -> ReviewChange:
        # SQLite reports a lost race for the write lock as "database is locked"; retry briefly.
        for i in range(attempts):
            try:
                return fn()
            except OperationalError as exc:
                if "locked" not in str(exc).lower() or i == attempts - 1:
                    raise StoreError(f"database busy: {str(exc).splitlines()[0]}") from exc
                time.sleep(0.02 * (i + 1))
        raise AssertionError("unreachable")

    def _lock(self, s: Session, candidate_id: int) -> None:
        # A no-op write first: takes SQLite's write lock / PostgreSQL's row lock before reading.
        n = s.execute(sa.update(CandidateRow).where(CandidateRow.id == candidate_id)
                      .values(status=CandidateRow.status)
                      .execution_options(synchronize_session=False)).rowcount
        if not n:
            raise NotFoundError(f"no candidate with id {candidate_id}")

    def _apply_once(self, candidate_id: int, decide: Callable[[ReviewFacts], ReviewChange]) -> ReviewChange:
        with self.db.transaction() as s:
            self._lock(s, candidate_id)
            row = candidate_row(s, candidate_id)
            change = decide(self._state(s, row))
            now = utc_now()
            kept = [a for a in change.acknowledged_risks if a in (row.risks or ())]
            event = ReviewEventRow(
                candidate_id=candidate_id, actor=change.actor, action=change.action,
                from_state=row.status, to_state=change.to_state,
                from_version=row.version, to_version=row.version, version_hash=row.content_hash,
                note=change.note.strip(), acknowledged_risks=kept, created_at=now,
            )
            s.add(event)
            s.flush()
            if change.records_approval:
                s.add(ApprovalRow(candidate_id=candidate_id, version=row.version,
                                  version_hash=row.content_hash, reviewer=change.actor,
                                  acknowledged_risks=kept, event_id=event.id, created_at=now))
            if change.also is not None:
                change.also(s, event.id)
            row.status = change.to_state
            row.updated_at = now
            row.updated_by = change.actor
            return change

    def edit_candidate(self, candidate_id: int, expected_version: int, changes: Mapping[str, Any], *,
                       actor: str, from_state: str, note: str) -> Candidate:
        """Write the edited version (`write_candidate_version`) and its audit entry in one
        transaction; the candidate goes back to `proposed` (its approvals named the old version
        hash and no longer count)."""
        with self.db.transaction() as s:
            edited = {**changes, "status": "proposed"}
            row = write_candidate_version(s, candidate_id, expected_version, edited, by=actor, note=note)
            s.add(ReviewEventRow(
                candidate_id=candidate_id, actor=actor, action="edit", from_state=from_state,
                to_state="proposed", from_version=expected_version, to_version=row.version,
                version_hash=row.content_hash, note=note.strip(), acknowledged_risks=[], created_at=utc_now(),
            ))
            s.flush()
            return candidates_by_ids(s, [candidate_id])[0]

    # ---- audit log ----

    def history(self, candidate_id: int) -> tuple[ReviewEvent, ...]:
        with self.db.read() as s:
            rows = s.scalars(sa.select(ReviewEventRow).where(ReviewEventRow.candidate_id == candidate_id)
                             .order_by(ReviewEventRow.id))
            return tuple(event_record(r) for r in rows)

    def audit_for_manifest(self, candidate_id: int) -> list[dict[str, Any]]:
        """The audit log as plain JSON, for an export's manifest."""
        return [e.to_json() for e in self.history(candidate_id)]

    # ---- exports ----

    def record_export(self, candidate_id: int, version: int, version_hash: str, *, profile: str,
                      language: str, paths: Sequence[str], output_sha256: str, manifest_path: str,
                      authorisation: Mapping[str, Any], created_by: str = "") -> ExportRecord:
        with self.db.transaction() as s:
            row = ExportRow(candidate_id=candidate_id, version=version, version_hash=version_hash,
                            profile=profile, language=language, paths=[str(p) for p in paths],
                            output_sha256=output_sha256, manifest_path=str(manifest_path),
                            authorisation=dict(authorisation), created_by=created_by, created_at=utc_now())
            s.add(row)
            s.flush()
            return export_record(row)

    def exports(self, candidate_id: int) -> tuple[ExportRecord, ...]:
        with self.db.read() as s:
            return tuple(export_record(r) for r in plain_rows(s, _EXPORTS, {"cid": candidate_id}))

    # ---- the candidate page ----

    def _context(self, s: Session, c: CandidateRow, pseudonym: str, language: str, sha256: str,
                 duration: float) -> InterviewContext:
        # the transcript panel: sentences with their flags in one query, warnings in another
        from clips_metadata.sentence_views import sentence_views

        tid = c.transcript_id
        sentences = sentence_views(s, tid)
        warnings = tuple(
            warning_record(w)
            for w in plain_rows(s, _WARNINGS, {"tid": tid})
        )
        if sentences:
            duration = max(duration, sentences[-1].end)
        return InterviewContext(interview_id=c.interview_id, pseudonym=pseudonym, language=language,
                                duration=duration, source_sha256=sha256, sentences=sentences,
                                warnings=warnings)

    def interview_context(self, candidate_id: int) -> InterviewContext:
        """Every sentence of the candidate's transcript with flags and translation, and warnings."""
        with self.db.read() as s:
            found = s.execute(
                sa.select(CandidateRow, IntervieweeRow.pseudonym, InterviewRow.language,
                          InterviewRow.sha256, InterviewRow.duration)
                .join(InterviewRow, InterviewRow.id == CandidateRow.interview_id)
                .join(IntervieweeRow, IntervieweeRow.id == InterviewRow.interviewee_id)
                .where(CandidateRow.id == candidate_id)).first()
            if found is None:
                raise NotFoundError(f"no candidate with id {candidate_id}")
            return self._context(s, *found)

    def candidate_page(self, candidate_id: int) -> CandidatePage:
        """The candidate, its interview's transcript, its review state, audit log and versions,
        in one read transaction and one query per panel."""
        with self.db.read() as s:
            found = s.execute(_PAGE, {"cid": candidate_id}).first()
            if found is None:
                raise NotFoundError(f"no candidate with id {candidate_id}")
            c, v, sha256, language, pseudonym, duration = found
            history = tuple(event_record(r) for r in plain_rows(s, _HISTORY, {"cid": candidate_id}))
            versions = tuple(version_record(r) for r in plain_rows(s, _VERSIONS, {"cid": candidate_id}))
            return CandidatePage(
                candidate=candidate_record(c, v, sha256, language, pseudonym),
                context=self._context(s, c, pseudonym, language, sha256, duration),
                state=self._state(s, c), history=history, versions=versions,
            )

    # ---- what the export gate reads ----

    def interviewee_of(self, candidate_id: int) -> Interviewee | None:
        """The candidate's interviewee (pseudonym, consent, names to redact), or None."""
        with self.db.read() as s:
            row = candidate_row(s, candidate_id)
            interview = s.get(InterviewRow, row.interview_id)
            person = s.get(IntervieweeRow, interview.interviewee_id) if interview else None
            return interviewee_record(person) if person is not None else None

    def text_languages(self, candidate_id: int) -> tuple[str, ...]:
        """Languages with subtitle or translation text in the candidate's current version."""
        with self.db.read() as s:
            row = candidate_row(s, candidate_id)
            ver = s.scalar(sa.select(CandidateVersionRow).where(
                CandidateVersionRow.candidate_id == candidate_id, CandidateVersionRow.version == row.version))
            if ver is None:
                return ()
            texts = dict(ver.subtitles or {}) | dict(ver.translations or {})
            return tuple(sorted(k for k, v in texts.items() if str(v).strip()))
