"""The preview of the publication plan: its job's progress as JSON, and the file for the player.

URLs name a candidate id and a plan hash, never a path. Asking for the progress queues the
preview of the candidate's current plan (idempotent by plan hash) and wakes the app's worker.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from clips_metadata.plans_repo import PlansRepo
from review import previews
from review.app.deps import RS, CurrentUser

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]


def worker(request: Request, rs: Any) -> previews.PreviewWorker:
    """The app's one preview worker (started on first use, stopped with the app)."""
    w = getattr(request.app.state, "preview_worker", None)
    if w is None:
        w = previews.PreviewWorker(rs.store, request.app.state.workspace)
        request.app.state.preview_worker = w
    return w


def preview_status(
    request: Request, rs: Any, candidate_id: int, planner: Any = None
) -> previews.PreviewStatus:
    """Queue (if needed) and report the current plan's preview; wakes the worker. `planner`: the
    page's own (it has built the plan already)."""
    st = previews.enqueue(rs.store, request.app.state.workspace, candidate_id, planner=planner)
    if st.status in ("queued", "running"):
        worker(request, rs).wake()
    return st


def preview_status_later(request: Request, rs: Any, candidate_id: int,
                         planner: Any) -> previews.PreviewStatus:
    """`preview_status` for a page view: the status now, the queueing write (and the worker's
    wake) kept in `request.state.after_reads` for `run_after_reads` once the page's reads are
    done (a write would end their shared transaction)."""
    st, write = previews.enqueue_later(rs.store, request.app.state.workspace, candidate_id, planner=planner)
    if write is None:
        if st.status in ("queued", "running"):
            worker(request, rs).wake()
        return st

    def queue_it() -> None:
        if write().status in ("queued", "running"):
            worker(request, rs).wake()

    request.state.after_reads = queue_it
    return st


def run_after_reads(request: Request) -> None:
    """Make the write a page view put off (see `preview_status_later`), if any."""
    pending = getattr(request.state, "after_reads", None)
    if pending is not None:
        request.state.after_reads = None
        pending()


@router.get("/candidates/{candidate_id}/preview.json")
async def preview_json(request: Request, candidate_id: CandidateId, user: CurrentUser, rs: RS) -> Response:
    st = await run_in_threadpool(preview_status, request, rs, candidate_id)
    return JSONResponse({"plan": st.plan_hash, "status": st.status, "progress": round(st.progress, 3),
                         "error": st.error,
                         "url": f"/media/candidates/{candidate_id}/preview.mp4?plan={st.plan_hash}"
                         if st.status == "done" else ""},
                        headers={"Cache-Control": "no-store"})


@router.api_route("/media/candidates/{candidate_id}/preview.mp4", methods=["GET", "HEAD"])
def preview_file(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    plan: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    job = PlansRepo(rs.store).preview_job(plan)
    path = previews.preview_path(request.app.state.workspace, plan)
    if job is None or job.candidate_id != candidate_id or path is None:
        return PlainTextResponse("no preview of that plan for this candidate", status_code=404)
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=300"})
