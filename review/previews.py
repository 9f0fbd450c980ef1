"""Previews of the publication plan: what reviewers watch before they approve.

`preview(store, workspace, candidate_id)` renders the plan reviewers watch now
(`review.plans.Planner.review_plan`) through the export's own graph (`render_preview`) into
`previews/<plan hash>.mp4`: named by the plan hash, never by anything a name could be in. Jobs
live in the store (`clips_metadata.plans_repo`, table `preview_jobs`), one per plan hash, so
asking twice renders once. `PreviewWorker` runs queued jobs on a thread in the review app; the
nightly run calls `render_due_previews`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clips_metadata.plans_repo import PlansRepo, PreviewJob
from pipeline.errors import CounterclipsError

if TYPE_CHECKING:
    from review.plans import Planner

log = logging.getLogger(__name__)
_HASH = re.compile(r"^[0-9a-f]{64}$")
# Statuses whose candidates reviewers may still watch (approved ones were watched already).
REVIEWABLE = ("proposed", "in_review", "changes_requested", "approved")


class PreviewError(CounterclipsError):
    """A preview cannot be made (no plan, source missing, render failed)."""


def previews_dir(workspace: Any) -> Path:
    return Path(workspace.root) / "previews"


def preview_path(workspace: Any, plan_hash: str) -> Path | None:
    """The preview file of a plan, or None when absent or outside the previews folder."""
    if not _HASH.match(plan_hash or ""):
        return None
    root = previews_dir(workspace).resolve()
    path = (root / f"{plan_hash}.mp4").resolve()
    return path if path.parent == root and path.is_file() else None


@dataclass(frozen=True, slots=True)
class PreviewStatus:
    """What the candidate page shows: the plan hash reviewers approve, the job, or why none."""

    plan_hash: str
    status: str  # queued | running | done | failed | none
    progress: float
    error: str = ""


def enqueue(store: Any, workspace: Any, candidate_id: int, *, retry_failed: bool = False,
            planner: Planner | None = None) -> PreviewStatus:
    """Queue the preview of the candidate's current plan (idempotent by plan hash). `planner`:
    the request's own, when it has built the plan already."""
    status, write = enqueue_later(store, workspace, candidate_id, retry_failed=retry_failed, planner=planner)
    return write() if write is not None else status


def enqueue_later(store: Any, workspace: Any, candidate_id: int, *, retry_failed: bool = False,
                  planner: Planner | None = None
                  ) -> tuple[PreviewStatus, Callable[[], PreviewStatus] | None]:
    """`enqueue` in two steps: the status a new job will have, and the write that queues it
    (None when nothing needs writing). A page view reports the status and writes after its
    reads, so its reads share one transaction (a write ends it). Other writes (a finished job
    whose file is missing) are made at once."""
    from review.plans import Planner

    current = (planner or Planner.for_workspace(store, workspace)).review_plan(candidate_id)
    if current.plan is None:
        return PreviewStatus("", "none", 0.0, current.problem), None
    repo = PlansRepo(store)
    job = repo.preview_job(current.hash)
    if job is not None and job.status == "done" and preview_path(workspace, current.hash) is None:
        repo.update_preview(current.hash, status="failed", error="preview file missing")
        retry_failed = True
    elif job is not None and not (job.status == "failed" and retry_failed):
        # queued already: the write below would change nothing (a page view then writes nothing)
        return PreviewStatus(job.plan_hash, job.status, job.progress, job.error), None
    plan = current.plan

    def write() -> PreviewStatus:
        queued = repo.enqueue_preview(current.hash, candidate_id, plan.version, plan.to_dict(),
                                      retry_failed=retry_failed)
        return PreviewStatus(queued.plan_hash, queued.status, queued.progress, queued.error)

    return PreviewStatus(current.hash, "queued", 0.0, ""), write


def run_job(store: Any, workspace: Any, job: PreviewJob) -> Path:
    """Render one claimed job; marks it done or failed. Raises PreviewError on failure."""
    from pipeline.errors import MediaError, RenderError
    from pipeline.publication import plan_from_dict
    from pipeline.render.render_export import render_preview

    repo = PlansRepo(store)
    try:
        cand = store.get_candidate(job.candidate_id)
        interview = store.get_interview(cand.interview_id)
        source = Path(interview.source_path)
        if not source.is_absolute():
            source = Path(workspace.root) / source
        if not source.is_file():
            raise PreviewError(f"the source of interview {interview.id} is missing")
        out = previews_dir(workspace) / f"{job.plan_hash}.mp4"
        last = [0.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.05 or fraction >= 1.0:
                last[0] = fraction
                repo.update_preview(job.plan_hash, progress=fraction)

        # The workspace's face samples: the export of this range (and the page's boxes) reuse them.
        # The review proxy, where there is one, gives the pictures (issue 19: no second decode
        # of the full-size source for what reviewers watch at proxy size).
        from review.proxy_files import proxy_path

        render_preview(plan_from_dict(job.plan), source, out, progress, face_cache=workspace.faces,
                       proxy=proxy_path(workspace, interview.sha256))
    except (PreviewError, RenderError, MediaError) as exc:
        repo.update_preview(job.plan_hash, status="failed", error=str(exc).splitlines()[0])
        # Neutral ids only: no file name or registry term reaches the log.
        log.warning("preview of candidate %s failed", job.candidate_id)
        raise PreviewError(str(exc).splitlines()[0]) from exc
    repo.update_preview(job.plan_hash, status="done", progress=1.0)
    return out


def preview(store: Any, workspace: Any, candidate_id: int) -> Path | None:
    """The preview of the candidate's current plan, rendered now unless it exists (the nightly
    run's task). None when the candidate has no plan."""
    st = enqueue(store, workspace, candidate_id, retry_failed=True)
    if st.status == "none":
        return None
    existing = preview_path(workspace, st.plan_hash)
    if st.status == "done" and existing is not None:
        return existing
    job = PlansRepo(store).preview_job(st.plan_hash)
    if job is None:
        raise PreviewError(f"the preview job of candidate {candidate_id} vanished")
    PlansRepo(store).update_preview(job.plan_hash, status="running", progress=0.0)
    return run_job(store, workspace, job)


def previews_due(store: Any) -> list[int]:
    """Candidates reviewers may still watch (the nightly run previews each)."""
    return [c.id for status in REVIEWABLE for c in store.list_candidates(status=status)]


class PreviewWorker:
    """Runs queued preview jobs one at a time on a daemon thread (the review app's queue)."""

    def __init__(self, store: Any, workspace: Any, idle_seconds: float = 1.0) -> None:
        self.store = store
        self.workspace = workspace
        self.idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            PlansRepo(self.store).requeue_running()
            self._thread = threading.Thread(target=self._loop, name="previews", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_pending(self) -> int:
        """Run every queued job now (the loop's body; tests call it directly)."""
        done = 0
        repo = PlansRepo(self.store)
        while not self._stop.is_set() and (job := repo.claim_preview()) is not None:
            try:
                run_job(self.store, self.workspace, job)
            except PreviewError:
                pass  # recorded on the job
            except Exception as exc:  # noqa: BLE001 - a worker thread must survive one bad job
                repo.update_preview(job.plan_hash, status="failed", error="preview render failed")
                # The type only: a message could quote a file name.
                log.error("preview of candidate %s failed (%s)", job.candidate_id, type(exc).__name__)
            done += 1
        return done

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_pending()
            self._wake.wait(self.idle)
            self._wake.clear()
