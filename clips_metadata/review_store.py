"""The review side of the store: users, the append-only audit log, approvals, exports, the
review queue and what the candidate page and the export gate read.

Built on `clips_metadata.store.Store` (revision 0001); the tables here come with revision 0002.
Every review action runs in one transaction that first takes the candidate's write lock, so
concurrent approvals are serialised: none is lost and four-eyes counting is exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from clips_metadata.errors import DuplicateError, NotFoundError, StoreError
from clips_metadata.rows import as_utc, candidate_filters, interviewee_record, utc_now, warning_record
from clips_metadata.stored_records import CANDIDATE_STATUSES, Candidate, Interviewee, StoredWarning
from clips_metadata.tables import (
    Base,
    CandidateLabelRow,
    CandidateRow,
    CandidateVersionRow,
    ConsentVoidRow,
    FlagRow,
    IntervieweeRow,
    InterviewRow,
    SentenceRow,
    WarningRow,
)
from pipeline.labels import ROLES, sql_in


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


# --- ORM models of revision 0002 (migrations/versions/0002_review.py creates exactly these) ---


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(sql_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(_ts())


class ReviewEventRow(Base):
    __tablename__ = "review_events"
    __table_args__ = (sa.Index("ix_review_events_candidate", "candidate_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(30))
    from_state: Mapped[str] = mapped_column(sa.String(30))
    to_state: Mapped[str] = mapped_column(sa.String(30))
    from_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    to_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text)
    acknowledged_risks: Mapped[list[Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(_ts())


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        sa.UniqueConstraint("candidate_id", "version", "reviewer",
                            name="uq_approvals_candidate_version_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    reviewer: Mapped[str] = mapped_column(sa.String(100))
    acknowledged_risks: Mapped[list[Any]] = mapped_column(sa.JSON)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("review_events.id"))
    created_at: Mapped[datetime] = mapped_column(_ts())


class ExportRow(Base):
    __tablename__ = "exports"
    __table_args__ = (sa.Index("ix_exports_candidate", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    profile: Mapped[str] = mapped_column(sa.String(30))
    language: Mapped[str] = mapped_column(sa.String(20))
    paths: Mapped[list[Any]] = mapped_column(sa.JSON)
    output_sha256: Mapped[str] = mapped_column(sa.String(64))
    manifest_path: Mapped[str] = mapped_column(sa.Text)
    authorisation: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(_ts())


# --- records ---


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
    items: tuple[QueueItem, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


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
class StoredApproval:
    reviewer: str
    version: int
    version_hash: str
    acknowledged_risks: tuple[str, ...]
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReviewState:
    """A candidate's review state, read in one transaction. `edited_by` lists user accounts
    whose edits are part of the current content; `risks` include "credibility" if warned."""

    candidate_id: int
    status: str
    version: int
    content_hash: str
    risks: tuple[str, ...]
    edited_by: tuple[str, ...]
    approvals: tuple[StoredApproval, ...]


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


class ReviewStore:
    """Review operations over an open `clips_metadata.store.Store` (its `transaction()`/`read()`)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.engine: sa.Engine = store.engine
        self._facets: tuple[float, dict[str, tuple[str, ...]]] | None = None

    # ---- users ----

    def add_user(self, name: str, role: str, password_hash: str) -> User:
        name = name.strip()
        if not name or len(name) > 100 or any(c.isspace() for c in name):
            raise StoreError("user name must be 1-100 characters without spaces")
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r} (editor, reviewer or admin)")
        row = UserRow(name=name, role=role, password_hash=password_hash, active=True, created_at=utc_now())
        try:
            with self.store.transaction() as s:
                s.add(row)
                s.flush()
                return _user(row)
        except IntegrityError as exc:
            raise DuplicateError(f"user {name!r} already exists") from exc

    def set_password(self, name: str, password_hash: str) -> None:
        with self.store.transaction() as s:
            n = s.execute(sa.update(UserRow).where(UserRow.name == name)
                          .values(password_hash=password_hash)).rowcount
        if not n:
            raise NotFoundError(f"no user {name!r}")

    def get_user(self, name: str) -> User | None:
        with self.store.read() as s:
            row = s.scalar(sa.select(UserRow).where(UserRow.name == name))
            return _user(row) if row else None

    def credentials(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, for login only."""
        with self.store.read() as s:
            row = s.scalar(sa.select(UserRow).where(UserRow.name == name))
            return (_user(row), row.password_hash) if row else None

    def list_users(self) -> tuple[User, ...]:
        with self.store.read() as s:
            return tuple(_user(r) for r in s.scalars(sa.select(UserRow).order_by(UserRow.name)))

    def count_admins(self) -> int:
        with self.store.read() as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(UserRow)
                                .where(UserRow.role == "admin", UserRow.active.is_(True))) or 0)

    # ---- reading candidates for review ----

    def _candidate_row(self, s: Session, candidate_id: int) -> CandidateRow:
        row = s.get(CandidateRow, candidate_id)
        if row is None:
            raise NotFoundError(f"no candidate {candidate_id}")
        return row

    def _edited_by(self, s: Session, candidate_id: int) -> tuple[str, ...]:
        """People (user accounts) whose edits are part of the candidate's current content."""
        names = s.scalars(
            sa.select(CandidateVersionRow.created_by).distinct()
            .where(CandidateVersionRow.candidate_id == candidate_id,
                   CandidateVersionRow.created_by.in_(sa.select(UserRow.name)))
        )
        return tuple(sorted(names))

    def _approvals(self, s: Session, candidate_id: int) -> tuple[StoredApproval, ...]:
        # Approvals a consent withdrawal voided stay on record but no longer count.
        voided = sa.select(ConsentVoidRow.ref_id).where(ConsentVoidRow.kind == "approval")
        rows = s.scalars(sa.select(ApprovalRow).where(ApprovalRow.candidate_id == candidate_id,
                                                      ApprovalRow.id.not_in(voided))
                         .order_by(ApprovalRow.id))
        return tuple(StoredApproval(r.reviewer, r.version, r.version_hash, tuple(r.acknowledged_risks or ()),
                                    as_utc(r.created_at)) for r in rows)

    def _state(self, s: Session, row: CandidateRow) -> ReviewState:
        return ReviewState(
            candidate_id=row.id, status=row.status, version=row.version, content_hash=row.content_hash,
            risks=tuple(row.risks or ()), edited_by=self._edited_by(s, row.id),
            approvals=self._approvals(s, row.id),
        )

    def review_state(self, candidate_id: int) -> ReviewState:
        """Status, version, risks, editors and approvals of the candidate, read together."""
        with self.store.read() as s:
            return self._state(s, self._candidate_row(s, candidate_id))

    def approvals(self, candidate_id: int) -> tuple[StoredApproval, ...]:
        with self.store.read() as s:
            return self._approvals(s, candidate_id)

    # ---- acting ----

    def apply_review(self, candidate_id: int, decide: Callable[[ReviewState], ReviewChange]) -> ReviewChange:
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
            raise NotFoundError(f"no candidate {candidate_id}")

    def _apply_once(self, candidate_id: int, decide: Callable[[ReviewState], ReviewChange]) -> ReviewChange:
        with self.store.transaction() as s:
            self._lock(s, candidate_id)
            row = self._candidate_row(s, candidate_id)
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
        """Write the edited version (`Store.update_candidate`) and its audit entry in one
        transaction; the candidate goes back to `proposed` (its approvals named the old version
        hash and no longer count)."""

        from clips_metadata.store import _candidates_by_ids, write_candidate_version

        with self.store.transaction() as s:
            edited = {**changes, "status": "proposed"}
            row = write_candidate_version(s, candidate_id, expected_version, edited, by=actor, note=note)
            s.add(ReviewEventRow(
                candidate_id=candidate_id, actor=actor, action="edit", from_state=from_state,
                to_state="proposed", from_version=expected_version, to_version=row.version,
                version_hash=row.content_hash, note=note.strip(), acknowledged_risks=[], created_at=utc_now(),
            ))
            s.flush()
            return _candidates_by_ids(s, [candidate_id])[0]

    # ---- audit log ----

    def history(self, candidate_id: int) -> tuple[ReviewEvent, ...]:
        with self.store.read() as s:
            rows = s.scalars(sa.select(ReviewEventRow).where(ReviewEventRow.candidate_id == candidate_id)
                             .order_by(ReviewEventRow.id))
            return tuple(_event(r) for r in rows)

    def audit_for_manifest(self, candidate_id: int) -> list[dict[str, Any]]:
        """The audit log as plain JSON, for an export's manifest."""
        return [e.to_json() for e in self.history(candidate_id)]

    # ---- exports ----

    def record_export(self, candidate_id: int, version: int, version_hash: str, *, profile: str,
                      language: str, paths: Sequence[str], output_sha256: str, manifest_path: str,
                      authorisation: Mapping[str, Any], created_by: str = "") -> ExportRecord:
        with self.store.transaction() as s:
            row = ExportRow(candidate_id=candidate_id, version=version, version_hash=version_hash,
                            profile=profile, language=language, paths=[str(p) for p in paths],
                            output_sha256=output_sha256, manifest_path=str(manifest_path),
                            authorisation=dict(authorisation), created_by=created_by, created_at=utc_now())
            s.add(row)
            s.flush()
            return _export(row)

    def exports(self, candidate_id: int) -> tuple[ExportRecord, ...]:
        with self.store.read() as s:
            rows = s.scalars(sa.select(ExportRow).where(ExportRow.candidate_id == candidate_id)
                             .order_by(ExportRow.id))
            return tuple(_export(r) for r in rows)

    # ---- the queue ----

    def queue(self, flt: QueueFilter = QueueFilter(), page: int = 1, per_page: int = 50) -> QueuePage:
        """Candidates filtered in SQL, best rank first, one page at a time."""
        if flt.status and flt.status not in CANDIDATE_STATUSES:
            raise StoreError(f"unknown status {flt.status!r}")
        per_page = max(1, min(per_page, 200))
        page = max(1, page)
        c, i, p = CandidateRow, InterviewRow, IntervieweeRow
        # The queue's filter leaves a field blank ("") where the store's filter takes None.
        where = candidate_filters(status=flt.status or None, interview_id=flt.interview,
                                  theme=flt.theme or None, risk=flt.risk or None,
                                  language=flt.language or None)
        where = [*where, *_person_filters(flt)]
        order = (c.rank.desc(), c.id.desc())
        # page the candidates alone first, then join the few rows shown to their interview
        sub = (sa.select(c.id, c.interview_id, c.status, c.version, c.start, c.end, c.rank, c.themes,
                         c.risks).where(*where).order_by(*order)
               .limit(per_page).offset((page - 1) * per_page).subquery())
        stmt = (sa.select(sub.c.id, sub.c.interview_id, p.pseudonym, i.language, sub.c.status,
                          sub.c.version, sub.c.start, sub.c.end, sub.c.rank, sub.c.themes, sub.c.risks)
                .join(i, i.id == sub.c.interview_id).join(p, p.id == i.interviewee_id)
                .order_by(sub.c.rank.desc(), sub.c.id.desc()))
        with self.store.read() as s:
            total = int(s.scalar(sa.select(sa.func.count(c.id)).where(*where)) or 0)
            rows = s.execute(stmt).all()
        items = tuple(QueueItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                                tuple(r[9] or ()), tuple(r[10] or ())) for r in rows)
        return QueuePage(items, total, page, per_page)

    FACETS_TTL = 30.0  # seconds; the menus need not show a label added a moment ago

    def facets(self) -> dict[str, tuple[str, ...]]:
        """Values the queue's filter menus offer (cached briefly: three DISTINCT scans)."""
        cached = self._facets
        if cached is not None and time.monotonic() - cached[0] < self.FACETS_TTL:
            return cached[1]
        value = self._load_facets()
        self._facets = (time.monotonic(), value)
        return value

    def _load_facets(self) -> dict[str, tuple[str, ...]]:
        lab = CandidateLabelRow
        with self.store.read() as s:
            def labels(kind: str) -> tuple[str, ...]:
                return tuple(s.scalars(sa.select(lab.label).distinct().where(lab.kind == kind)
                                       .order_by(lab.label)))

            themes, risks = labels("theme"), labels("risk")
            langs = tuple(s.scalars(sa.select(InterviewRow.language).distinct()
                                    .order_by(InterviewRow.language)))
        return {"status": CANDIDATE_STATUSES, "theme": themes, "risk": risks, "language": langs}

    # ---- the candidate page ----

    def interview_context(self, candidate_id: int) -> InterviewContext:
        """Every sentence of the candidate's transcript with flags and translation, and warnings."""
        with self.store.read() as s:
            row = self._candidate_row(s, candidate_id)
            interview = s.get(InterviewRow, row.interview_id)
            person = s.get(IntervieweeRow, interview.interviewee_id) if interview else None
            tid = row.transcript_id
            flags = {f.idx: f for f in s.scalars(sa.select(FlagRow).where(FlagRow.transcript_id == tid))}
            sentences = []
            for r in s.scalars(sa.select(SentenceRow).where(SentenceRow.transcript_id == tid)
                               .order_by(SentenceRow.idx)):
                f = flags.get(r.idx)
                sentences.append(SentenceView(
                    index=r.idx, start=r.start, end=r.end, text=r.text, translation=r.translation or "",
                    labels=tuple(f.labels) if f else (), why=dict(f.why or {}) if f else {},
                    words=tuple((float(w[0]), float(w[1]), str(w[2])) for w in (r.words or ())),
                ))
            warnings = tuple(
                warning_record(w)
                for w in s.scalars(sa.select(WarningRow).where(WarningRow.transcript_id == tid)
                                   .order_by(WarningRow.start))
            )
            duration = interview.duration if interview else 0.0
            if sentences:
                duration = max(duration, sentences[-1].end)
            return InterviewContext(
                interview_id=row.interview_id, pseudonym=person.pseudonym if person else "",
                language=interview.language if interview else "", duration=duration,
                source_sha256=interview.sha256 if interview else "", sentences=tuple(sentences),
                warnings=warnings,
            )

    # ---- what the export gate reads ----

    def interviewee_of(self, candidate_id: int) -> Interviewee | None:
        """The candidate's interviewee (pseudonym, consent, names to redact), or None."""
        with self.store.read() as s:
            row = self._candidate_row(s, candidate_id)
            interview = s.get(InterviewRow, row.interview_id)
            person = s.get(IntervieweeRow, interview.interviewee_id) if interview else None
            return interviewee_record(person) if person is not None else None

    def text_languages(self, candidate_id: int) -> tuple[str, ...]:
        """Languages with subtitle or translation text in the candidate's current version."""
        with self.store.read() as s:
            row = self._candidate_row(s, candidate_id)
            ver = s.scalar(sa.select(CandidateVersionRow).where(
                CandidateVersionRow.candidate_id == candidate_id, CandidateVersionRow.version == row.version))
            if ver is None:
                return ()
            texts = dict(ver.subtitles or {}) | dict(ver.translations or {})
            return tuple(sorted(k for k, v in texts.items() if str(v).strip()))


def _user(r: UserRow) -> User:
    return User(r.id, r.name, r.role, bool(r.active), as_utc(r.created_at))


def _event(r: ReviewEventRow) -> ReviewEvent:
    return ReviewEvent(r.id, r.candidate_id, r.actor, r.action, r.from_state, r.to_state, r.from_version,
                       r.to_version, r.version_hash, r.note, tuple(r.acknowledged_risks or ()),
                       as_utc(r.created_at))


def _export(r: ExportRow) -> ExportRecord:
    return ExportRecord(r.id, r.candidate_id, r.version, r.version_hash, r.profile, r.language,
                        tuple(r.paths or ()), r.output_sha256, r.manifest_path, r.created_by,
                        as_utc(r.created_at))


def _person_filters(flt: QueueFilter) -> list[Any]:
    """The queue's per-person views ("waiting for me", "my edits") as WHERE clauses."""
    c, ev = CandidateRow, ReviewEventRow
    out: list[Any] = []
    if flt.waiting_for:
        edited = sa.select(ev.candidate_id).where(ev.actor == flt.waiting_for, ev.action == "edit")
        approved = sa.select(ApprovalRow.candidate_id).where(
            ApprovalRow.reviewer == flt.waiting_for, ApprovalRow.candidate_id == c.id,
            ApprovalRow.version == c.version)
        out += [c.status.in_(("proposed", "in_review")), c.id.not_in(edited), ~approved.exists()]
    if flt.edited_by:
        out.append(c.id.in_(sa.select(ev.candidate_id).where(ev.actor == flt.edited_by, ev.action == "edit")))
    return out

