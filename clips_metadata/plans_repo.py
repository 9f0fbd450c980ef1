"""Stored publication plans: the plan each reviewer approved, and the preview render jobs.

Tables `approved_plans` and `preview_jobs` (revision 0004). Plans are stored as the plain dict of
`pipeline.publication.PublicationPlan.to_dict()`; they carry no registry term (the text is
already redacted, the words enter only as a keyed digest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clips_metadata.engine import Repository, plain_rows
from clips_metadata.rows import utc_now
from clips_metadata.tables import ApprovedPlanRow, PreviewJobRow

JOB_STATUSES = ("queued", "running", "done", "failed")


@dataclass(frozen=True, slots=True)
class ApprovedPlan:
    """A reviewer's approval of one plan of one candidate version."""

    candidate_id: int
    version: int
    reviewer: str
    plan_hash: str
    plan: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PreviewJob:
    """One preview render: `progress` in [0, 1]; `error` a one-line reason when failed."""

    plan_hash: str
    candidate_id: int
    version: int
    status: str
    progress: float
    error: str
    plan: Mapping[str, Any]


_JOB = sa.select(PreviewJobRow).where(PreviewJobRow.plan_hash == sa.bindparam("h"))
_ANY_QUEUED = sa.select(PreviewJobRow.plan_hash).where(PreviewJobRow.status == "queued").limit(1)
_APPROVED_HASHES = (sa.select(ApprovedPlanRow.version, ApprovedPlanRow.reviewer, ApprovedPlanRow.plan_hash)
                    .where(ApprovedPlanRow.candidate_id == sa.bindparam("cid")).order_by(ApprovedPlanRow.id))


def _approved(r: ApprovedPlanRow) -> ApprovedPlan:
    return ApprovedPlan(r.candidate_id, r.version, r.reviewer, r.plan_hash, dict(r.plan))


def _job(r: PreviewJobRow) -> PreviewJob:
    return PreviewJob(r.plan_hash, r.candidate_id, r.version, r.status, float(r.progress), r.error,
                      dict(r.plan))


def add_approved(session: Session, candidate_id: int, version: int, reviewer: str, plan_hash: str,
                 plan: Mapping[str, Any]) -> None:
    """Record an approved plan inside the caller's transaction (the approval's own)."""
    session.add(ApprovedPlanRow(candidate_id=candidate_id, version=version, reviewer=reviewer,
                                plan_hash=plan_hash, plan=dict(plan), created_at=utc_now()))


class PlansRepo(Repository):
    """Approved plans and preview jobs over an open `clips_metadata.store.Store`."""

    # ---- approved plans ----

    def record_approved(self, candidate_id: int, version: int, reviewer: str, plan_hash: str,
                        plan: Mapping[str, Any]) -> None:
        with self.db.transaction() as s:
            add_approved(s, candidate_id, version, reviewer, plan_hash, plan)

    def approved(self, candidate_id: int) -> tuple[ApprovedPlan, ...]:
        """Every approved plan of the candidate, oldest first."""
        with self.db.read() as s:
            rows = s.scalars(sa.select(ApprovedPlanRow).where(ApprovedPlanRow.candidate_id == candidate_id)
                             .order_by(ApprovedPlanRow.id))
            return tuple(_approved(r) for r in rows)

    def approved_hashes(self, candidate_id: int) -> dict[tuple[int, str], str]:
        """(version, reviewer) -> the hash of the plan that reviewer last approved."""
        # the three columns only: every page view and approval asks, and the plans' JSON is large
        with self.db.read() as s:
            rows = plain_rows(s, _APPROVED_HASHES, {"cid": candidate_id})
        return {(version, reviewer): plan_hash for version, reviewer, plan_hash in rows}

    # ---- preview jobs ----

    def enqueue_preview(self, plan_hash: str, candidate_id: int, version: int,
                        plan: Mapping[str, Any], *, retry_failed: bool = False) -> PreviewJob:
        """The job of this plan, queued now unless it exists (a failed one is queued again only
        with `retry_failed`: a page polling its progress must not loop on a broken source)."""
        try:
            with self.db.transaction() as s:
                row = s.get(PreviewJobRow, plan_hash)
                if row is None:
                    row = PreviewJobRow(plan_hash=plan_hash, candidate_id=candidate_id, version=version,
                                        status="queued", progress=0.0, error="", plan=dict(plan),
                                        updated_at=utc_now())
                    s.add(row)
                elif row.status == "failed" and retry_failed:
                    row.status, row.progress, row.error, row.updated_at = "queued", 0.0, "", utc_now()
                s.flush()
                return _job(row)
        except IntegrityError:
            # Two page views of one plan queued it at once (PostgreSQL runs them side by side):
            # the other's job is this plan's job.
            job = self.preview_job(plan_hash)
            if job is None:
                raise
            return job

    def preview_job(self, plan_hash: str) -> PreviewJob | None:
        with self.db.read() as s:
            found = plain_rows(s, _JOB, {"h": plan_hash})
        return _job(found[0]) if found else None

    def claim_preview(self) -> PreviewJob | None:
        """Mark the oldest queued job running and return it (None when nothing waits)."""
        # Look before locking: the worker asks after every job and on every wake, and mostly
        # nothing waits; a read takes no write lock from the reviewers' approvals (issue 19).
        with self.db.read() as s:
            if not plain_rows(s, _ANY_QUEUED):
                return None
        with self.db.transaction() as s:
            row = s.scalar(sa.select(PreviewJobRow).where(PreviewJobRow.status == "queued")
                           .order_by(PreviewJobRow.updated_at).limit(1))
            if row is None:
                return None
            row.status, row.progress, row.updated_at = "running", 0.0, utc_now()
            s.flush()
            return _job(row)

    def update_preview(self, plan_hash: str, *, status: str | None = None, progress: float | None = None,
                       error: str | None = None) -> None:
        values: dict[str, Any] = {"updated_at": utc_now()}
        if status is not None:
            if status not in JOB_STATUSES:
                raise ValueError(f"unknown preview job status {status!r}")
            values["status"] = status
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, float(progress)))
        if error is not None:
            values["error"] = error[:500]
        with self.db.transaction() as s:
            s.execute(sa.update(PreviewJobRow).where(PreviewJobRow.plan_hash == plan_hash).values(**values))

    def requeue_running(self) -> int:
        """Jobs left `running` by a process that is gone go back to the queue (at start-up)."""
        with self.db.transaction() as s:
            return int(s.execute(sa.update(PreviewJobRow).where(PreviewJobRow.status == "running")
                                 .values(status="queued", progress=0.0, updated_at=utc_now())).rowcount or 0)
