"""Exports from the review app: POST /candidates/{id}/export starts a background job through the
same `export_candidate` service as the CLI (the gate decides); the page shows its progress and
links to the files of recorded exports.

The app may not import `flows`; `counterclips review serve` injects
`flows.services.exporting.export_candidate`. Without it the export routes answer 404. A download
serves only a path listed in that export's own record, never a path from the request.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from clips_metadata.review_store import ExportRecord
from clips_metadata.store import Store
from clips_metadata.workspace import Workspace
from review.app.deps import RS, CurrentUser, flash, require_role
from review.export_settings import PROFILE_NAMES, ExportSettings, Progress
from review.rules import Role

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
_ids = itertools.count(1)


class ExportService(Protocol):
    """The signature of flows.services.exporting.export_candidate."""

    def __call__(self, store: Store, workspace: Workspace, candidate_id: int, request: ExportSettings,
                 progress: Progress | None = None) -> ExportRecord: ...


@dataclass(slots=True)
class ExportJob:
    """One export running (or finished) in this process, shown on the candidate page."""

    id: int
    candidate_id: int
    profile: str
    actor: str
    state: str = "running"  # running | done | failed
    progress: float = 0.0
    error: str = ""
    record_id: int | None = None


def _jobs(request: Request) -> dict[int, ExportJob]:
    if not hasattr(request.app.state, "export_jobs"):
        request.app.state.export_jobs = {}
    return request.app.state.export_jobs


def _run(job: ExportJob, service: ExportService, store: Store, workspace: Workspace,
         settings: ExportSettings) -> None:
    def progress(fraction: float) -> None:
        job.progress = max(0.0, min(1.0, float(fraction)))

    try:
        record = service(store, workspace, job.candidate_id, settings, progress)
        job.record_id, job.progress, job.state = record.id, 1.0, "done"
    except Exception as exc:  # noqa: BLE001 - the reason is shown to the person who asked
        job.state, job.error = "failed", str(exc)[:300] or type(exc).__name__


@router.post("/candidates/{candidate_id}/export")
def export(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    profile: Annotated[str, Form(max_length=20)] = "master",
    platform: Annotated[str, Form(max_length=60)] = "any",
    language: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    service: ExportService | None = getattr(request.app.state, "export_candidate", None)
    if service is None:
        raise HTTPException(status_code=404, detail="exports are not enabled in this app")
    require_role(user, Role.REVIEWER, Role.ADMIN)
    if profile not in PROFILE_NAMES:
        raise HTTPException(status_code=400, detail=f"unknown profile {profile!r}")
    rs.store.get_candidate(candidate_id)  # 404 before a job exists
    settings = ExportSettings(profile=profile, platform=platform, language=language or None, actor=user.name)
    job = ExportJob(next(_ids), candidate_id, profile, user.name)
    _jobs(request)[job.id] = job
    threading.Thread(target=_run, args=(job, service, rs.store, request.app.state.workspace, settings),
                     name=f"export-{job.id}", daemon=True).start()
    flash(request, f"export {profile} started; progress shows below the decision")
    return RedirectResponse(f"/candidates/{candidate_id}#export", status_code=303)


@router.get("/exports/jobs/{job_id}")
def job_state(request: Request, job_id: Annotated[int, Path(ge=1)], user: CurrentUser) -> Response:
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="no such export job")
    return JSONResponse({"state": job.state, "progress": job.progress, "error": job.error,
                         "candidate_id": job.candidate_id})


@router.get("/candidates/{candidate_id}/exports/{export_id}/files/{n}")
def download(candidate_id: CandidateId, export_id: Annotated[int, Path(ge=1)],
             n: Annotated[int, Path(ge=0, le=100)], user: CurrentUser, rs: RS) -> Response:
    record = next((e for e in rs.exports(candidate_id) if e.id == export_id), None)
    if record is None or n >= len(record.paths):
        raise HTTPException(status_code=404, detail="no such export file")
    path = FsPath(record.paths[n])
    if not path.is_file():
        raise HTTPException(status_code=404, detail="the export file is no longer on disk")
    return FileResponse(path, filename=path.name)


def active_jobs(app: Any, candidate_id: int) -> list[ExportJob]:
    return [j for j in getattr(app.state, "export_jobs", {}).values() if j.candidate_id == candidate_id]
