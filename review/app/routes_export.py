"""POST /candidates/{id}/export: export an approved candidate from the review app.

Thin: parse the form, call the `export_candidate` service the app factory was given (the app may
not import `flows`; `counterclips review serve` injects `flows.services.exporting.export_candidate`),
redirect back with the paths or the gate's reason. Without an injected service the route answers
404, so an app built for review only cannot render.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from clips_metadata.review_store import ExportRecord
from clips_metadata.store import Store
from clips_metadata.workspace import Workspace
from review.app.deps import RS, CurrentUser, flash, require_role
from review.export_settings import PROFILE_NAMES, ExportSettings, Progress
from review.rules import Role

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]


class ExportService(Protocol):
    """The signature of flows.services.exporting.export_candidate."""

    def __call__(self, store: Store, workspace: Workspace, candidate_id: int, request: ExportSettings,
                 progress: Progress | None = None) -> ExportRecord: ...


@router.post("/candidates/{candidate_id}/export")
async def export(
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
    settings = ExportSettings(profile=profile, platform=platform, language=language or None, actor=user.name)
    workspace = request.app.state.workspace
    record = await run_in_threadpool(service, rs.store, workspace, candidate_id, settings)
    flash(request, f"exported {profile}: " + ", ".join(p.rsplit("/", 1)[-1] for p in record.paths))
    return RedirectResponse(f"/candidates/{candidate_id}", status_code=303)
