"""The distribution log and consent withdrawals: where each export was published (tied to the
exact file by sha256), which withdrawals voided which approvals and export authorisations.

Takes an open `clips_metadata.store.Store` (its `transaction()`/`read()`); the tables are in
`clips_metadata/tables.py` (revision 0008). Nothing here deletes: a takedown is a date on the
publication, a voided approval is a row in `consent_voids` (the approval itself stays on record).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clips_metadata.engine import Repository
from clips_metadata.errors import NotFoundError
from clips_metadata.rows import as_utc, utc_now
from clips_metadata.tables import (
    ApprovalRow,
    CandidateRow,
    ConsentVoidRow,
    ExportRow,
    IntervieweeRow,
    InterviewRow,
    PublicationRow,
    ReviewEventRow,
    WithdrawalRow,
)
from pipeline.timeline.records import ExportEntry, Publication

VOID_APPROVAL = "approval"
VOID_EXPORT = "export"
# Where a voided approval leaves the candidate: a reviewer must look again (start review, approve).
VOIDED_STATUS = "changes_requested"


@dataclass(frozen=True, slots=True)
class StoredPublication:
    """A publication as recorded, with its id, who recorded it and whose clip it is (pseudonym)."""

    id: int
    publication: Publication
    interviewee: str
    recorded_by: str
    taken_down_by: str = ""

    def to_json(self) -> dict[str, Any]:
        p = self.publication
        return {"id": self.id, "candidate": p.candidate_id, "version": p.version, "export": p.export_id,
                "interviewee": self.interviewee, "platform": p.platform, "url": p.url,
                "published_at": p.published_at, "file_sha256": p.file_sha256,
                "taken_down_at": p.taken_down_at, "recorded_by": self.recorded_by}


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A recorded withdrawal ("withdraw") or narrowing ("narrow") of consent."""

    id: int
    interviewee_id: int
    pseudonym: str
    kind: str
    narrowed: tuple[str, ...]
    reason: str
    actor: str
    takedown_files: tuple[str, ...]
    created_at: datetime


_OF_CANDIDATE = (sa.select(PublicationRow).where(PublicationRow.candidate_id == sa.bindparam("cid"))
                 .order_by(PublicationRow.candidate_id, PublicationRow.platform, PublicationRow.published_at,
                           PublicationRow.id))


class PublicationsRepo(Repository):
    """Publications, withdrawals and voids over a Store."""

    # ---- exports as the distribution log sees them ----

    def export_entries(self, interviewee_id: int | None = None,
                       export_ids: Iterable[int] | None = None) -> tuple[ExportEntry, ...]:
        """Recorded exports with their interviewee's pseudonym, oldest first."""
        q = _export_query()
        if interviewee_id is not None:
            q = q.where(IntervieweeRow.id == interviewee_id)
        if export_ids is not None:
            q = q.where(ExportRow.id.in_(list(export_ids)))
        with self.db.read() as s:
            return tuple(_entry(*r) for r in s.execute(q.order_by(ExportRow.id)))

    def export_entry(self, export_id: int) -> ExportEntry:
        found = self.export_entries(export_ids=[export_id])
        if not found:
            raise NotFoundError(f"no export {export_id}")
        return found[0]

    def export_scopes(self, interviewee_id: int) -> dict[int, dict[str, Any]]:
        """Export id -> the signed authorisation (its scope: face, voice, name, platform,
        languages) of every export of the interviewee's clips."""
        with self.db.read() as s:
            rows = s.execute(_export_query().where(IntervieweeRow.id == interviewee_id))
            return {r.id: dict(r.authorisation or {}) for r, _ in rows}

    # ---- publications ----

    def record(self, publication: Publication, recorded_by: str) -> StoredPublication:
        p = publication
        with self.db.transaction() as s:
            row = PublicationRow(export_id=p.export_id, candidate_id=p.candidate_id, version=p.version,
                                 platform=p.platform, url=p.url, published_at=p.published_at,
                                 file_sha256=p.file_sha256, recorded_by=recorded_by, created_at=utc_now())
            s.add(row)
            s.flush()
            return _publication(s, row)

    def publications(self, candidate_id: int | None = None, *, open_only: bool = False,
                     interviewee_id: int | None = None,
                     ids: Iterable[int] | None = None) -> tuple[StoredPublication, ...]:
        """Recorded publications by candidate, platform and date."""
        if candidate_id is not None and not open_only and interviewee_id is None and ids is None:
            with self.db.read() as s:  # the candidate page's question, built once
                return tuple(_publication(s, r) for r in s.scalars(_OF_CANDIDATE, {"cid": candidate_id}))
        q = sa.select(PublicationRow)
        if candidate_id is not None:
            q = q.where(PublicationRow.candidate_id == candidate_id)
        if open_only:
            q = q.where(PublicationRow.taken_down_at.is_(None))
        if ids is not None:
            q = q.where(PublicationRow.id.in_(list(ids)))
        if interviewee_id is not None:
            q = q.where(PublicationRow.candidate_id.in_(
                sa.select(CandidateRow.id).join(InterviewRow, CandidateRow.interview_id == InterviewRow.id)
                .where(InterviewRow.interviewee_id == interviewee_id)))
        q = q.order_by(PublicationRow.candidate_id, PublicationRow.platform, PublicationRow.published_at,
                       PublicationRow.id)
        with self.db.read() as s:
            return tuple(_publication(s, r) for r in s.scalars(q))

    def mark_taken_down(self, publication_ids: Sequence[int], at: str, by: str) -> int:
        """Close the open ones among `publication_ids`; returns how many were closed."""
        with self.db.transaction() as s:
            return int(s.execute(
                sa.update(PublicationRow)
                .where(PublicationRow.id.in_(list(publication_ids)), PublicationRow.taken_down_at.is_(None))
                .values(taken_down_at=at, taken_down_by=by)
                .execution_options(synchronize_session=False)).rowcount or 0)

    # ---- withdrawals and voids ----

    def record_withdrawal(self, interviewee_id: int, pseudonym: str, *, kind: str, narrowed: Sequence[str],
                          reason: str, actor: str, candidate_ids: Sequence[int],
                          export_ids: Sequence[int]) -> tuple[Withdrawal, tuple[int, ...], tuple[int, ...]]:
        """Record the withdrawal and, in the same transaction, void every approval of
        `candidate_ids` and the authorisations of `export_ids`; an approved or in-review candidate
        goes to `changes_requested` with an audit entry saying why (pseudonym, never a real name).
        Returns (withdrawal, voided approval ids, voided export ids)."""
        now = utc_now()
        with self.db.transaction() as s:
            row = WithdrawalRow(interviewee_id=interviewee_id, pseudonym=pseudonym, kind=kind,
                                narrowed=list(narrowed), reason=reason, actor=actor, takedown_files=[],
                                created_at=now)
            s.add(row)
            s.flush()
            voided = sa.select(ConsentVoidRow.ref_id).where(ConsentVoidRow.kind == VOID_APPROVAL)
            approvals = list(s.execute(
                sa.select(ApprovalRow.id, ApprovalRow.candidate_id)
                .where(ApprovalRow.candidate_id.in_(list(candidate_ids)), ApprovalRow.id.not_in(voided))))
            done_exports = sa.select(ConsentVoidRow.ref_id).where(ConsentVoidRow.kind == VOID_EXPORT)
            exports = list(s.execute(
                sa.select(ExportRow.id, ExportRow.candidate_id)
                .where(ExportRow.id.in_(list(export_ids)), ExportRow.id.not_in(done_exports))))
            for kind_, found in ((VOID_APPROVAL, approvals), (VOID_EXPORT, exports)):
                for ref_id, cid in found:
                    s.add(ConsentVoidRow(withdrawal_id=row.id, kind=kind_, ref_id=ref_id, candidate_id=cid,
                                         created_at=now))
            what = "withdrew consent" if kind == "withdraw" else "narrowed consent"
            note = f"{pseudonym} {what}" + (f" ({', '.join(narrowed)})" if narrowed else "") + \
                (f": {reason}" if reason else "")
            for cid in sorted(set(candidate_ids)):
                cand = s.get(CandidateRow, cid)
                if cand is None:
                    continue
                to_state = VOIDED_STATUS if cand.status in ("approved", "in_review") else cand.status
                s.add(ReviewEventRow(candidate_id=cid, actor=actor, action="consent_" + kind,
                                     from_state=cand.status, to_state=to_state, from_version=cand.version,
                                     to_version=cand.version, version_hash=cand.content_hash, note=note,
                                     acknowledged_risks=[], created_at=now))
                cand.status = to_state
                cand.updated_at = now
                cand.updated_by = actor
            s.flush()
            return (_withdrawal(row), tuple(a for a, _ in approvals), tuple(e for e, _ in exports))

    def set_takedown_files(self, withdrawal_id: int, files: Sequence[str]) -> None:
        with self.db.transaction() as s:
            row = s.get(WithdrawalRow, withdrawal_id)
            if row is None:
                raise NotFoundError(f"no withdrawal {withdrawal_id}")
            row.takedown_files = [str(f) for f in files]

    def withdrawals(self, interviewee_id: int | None = None) -> tuple[Withdrawal, ...]:
        q = sa.select(WithdrawalRow).order_by(WithdrawalRow.id)
        if interviewee_id is not None:
            q = q.where(WithdrawalRow.interviewee_id == interviewee_id)
        with self.db.read() as s:
            return tuple(_withdrawal(r) for r in s.scalars(q))

    def withdrawn(self, interviewee_id: int) -> Withdrawal | None:
        """The interviewee's withdrawal of consent, if any (the latest)."""
        found = [w for w in self.withdrawals(interviewee_id) if w.kind == "withdraw"]
        return found[-1] if found else None

    def voided_exports(self) -> dict[int, int]:
        """Export id -> the withdrawal that voided its authorisation."""
        with self.db.read() as s:
            rows = s.execute(sa.select(ConsentVoidRow.ref_id, ConsentVoidRow.withdrawal_id)
                             .where(ConsentVoidRow.kind == VOID_EXPORT))
            return {int(r): int(w) for r, w in rows}


def _export_query() -> sa.Select[Any]:
    return (sa.select(ExportRow, IntervieweeRow.pseudonym)
            .join(CandidateRow, ExportRow.candidate_id == CandidateRow.id)
            .join(InterviewRow, CandidateRow.interview_id == InterviewRow.id)
            .join(IntervieweeRow, InterviewRow.interviewee_id == IntervieweeRow.id))


def _entry(row: ExportRow, pseudonym: str) -> ExportEntry:
    paths = [str(p) for p in row.paths or ()]
    video = next((p for p in paths if p.endswith(".mp4")), paths[0] if paths else "")
    created = as_utc(row.created_at)
    return ExportEntry(export_id=row.id, candidate_id=row.candidate_id, version=row.version,
                       interviewee=pseudonym, folder=str(Path(video).parent) if video else "",
                       file_name=Path(video).name, file_sha256=row.output_sha256,
                       created_at=created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else "")


def _publication(s: Session, r: PublicationRow) -> StoredPublication:
    pseudonym = s.scalar(sa.select(IntervieweeRow.pseudonym)
                         .join(InterviewRow, InterviewRow.interviewee_id == IntervieweeRow.id)
                         .join(CandidateRow, CandidateRow.interview_id == InterviewRow.id)
                         .where(CandidateRow.id == r.candidate_id)) or ""
    pub = Publication(export_id=r.export_id, candidate_id=r.candidate_id, version=r.version,
                      platform=r.platform, url=r.url, published_at=r.published_at, file_sha256=r.file_sha256,
                      taken_down_at=r.taken_down_at)
    return StoredPublication(r.id, pub, pseudonym, r.recorded_by, r.taken_down_by or "")


def _withdrawal(r: WithdrawalRow) -> Withdrawal:
    return Withdrawal(r.id, r.interviewee_id, r.pseudonym, r.kind, tuple(r.narrowed or ()), r.reason, r.actor,
                      tuple(r.takedown_files or ()), as_utc(r.created_at))
