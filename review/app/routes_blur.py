"""Manual blur regions and detected faces on the candidate page (issue 16).

An editor adds a box (source pixels) over a time range (source seconds) for anything the face
detector missed; the regions are stored in the version's render options (`pipeline.blur_boxes`),
so adding or removing one is a new version through the edit service (audited, back to proposed),
part of the version hash and of the publication plan's `blur_boxes`. The detected face boxes of
the clip are served as JSON (cached per source and range in the workspace) for the preview to
draw over the video."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from clips_metadata.stored_records import Candidate
from pipeline.blur_boxes import BlurRegionError, ManualBlur, check_region, regions_of, with_regions
from review.app.deps import RS, CurrentUser, flash
from review.app.routes_speakers import field_error
from review.service import ReviewService

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
Pixels = Annotated[int, Form(ge=0, le=16384)]
Seconds = Annotated[float, Form(ge=0, le=86_400)]


def picture_size(rs: Any, cand: Candidate) -> tuple[int, int]:
    """The source's picture size from the stored probe (0x0 for audio-only media)."""
    media = rs.store.get_interview(cand.interview_id).media or {}
    video = next((s for s in media.get("streams", ()) if s.get("kind") == "video"), {})
    width = video.get("width") or media.get("width") or 0
    return int(width), int(video.get("height") or media.get("height") or 0)


def blur_context(rs: Any, cand: Candidate, request: Request) -> dict[str, Any]:
    """What `_blur_regions.html` shows."""
    error = field_error(request, "blur")
    width, height = picture_size(rs, cand)
    try:
        regions = regions_of(cand.render_options)
    except BlurRegionError:
        regions = ()
    return {"blur": {"regions": regions, "width": width, "height": height, "error": error}}


def _back(candidate_id: int) -> RedirectResponse:
    return RedirectResponse(f"/candidates/{candidate_id}#blur-regions", status_code=303)


@router.post("/candidates/{candidate_id}/blur-regions")
def add_region(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    x: Pixels, y: Pixels, width: Pixels, height: Pixels,
    start: Seconds, end: Seconds,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    cand = rs.store.get_candidate(candidate_id)
    w, h = picture_size(rs, cand)
    if not w or not h:
        field_error(request, "blur", "this interview has no picture to blur")
        return _back(candidate_id)
    try:
        region = check_region(ManualBlur(x, y, width, height, start, end), w, h, cand.start, cand.end)
        options = with_regions(cand.render_options, (*regions_of(cand.render_options), region))
    except BlurRegionError as exc:
        field_error(request, "blur", f"blur region not added: {exc}")
        return _back(candidate_id)
    what = (f"manual blur {region.width}x{region.height} at {region.x},{region.y}, "
            f"{region.start:.2f}-{region.end:.2f} s")
    ReviewService(rs).edit(candidate_id, version, {"render_options": options}, actor=user.name,
                           role=user.role, note=note or what)
    flash(request, "blur region added; back to proposed")
    return _back(candidate_id)


@router.post("/candidates/{candidate_id}/blur-regions/remove")
def remove_region(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    index: Annotated[int, Form(ge=0, le=1000)],
) -> Response:
    cand = rs.store.get_candidate(candidate_id)
    regions = list(regions_of(cand.render_options))
    if index >= len(regions):
        field_error(request, "blur", "no such blur region (reload the page)")
        return _back(candidate_id)
    gone = regions.pop(index)
    options = with_regions(cand.render_options, regions)
    ReviewService(rs).edit(candidate_id, version, {"render_options": options}, actor=user.name,
                           role=user.role, note=f"removed manual blur at {gone.x},{gone.y}, "
                                                f"{gone.start:.2f}-{gone.end:.2f} s")
    flash(request, "blur region removed; back to proposed")
    return _back(candidate_id)


@router.get("/candidates/{candidate_id}/faces.json")
def faces(request: Request, candidate_id: CandidateId, user: CurrentUser, rs: RS) -> Response:
    """Detected face boxes of the clip, source clock and pixels, from the workspace cache
    (`pipeline.render.face_cache`); computed on first request."""
    from pathlib import Path as FsPath

    from pipeline.render.face_cache import cached_face_samples

    cand = rs.store.get_candidate(candidate_id)
    iv = rs.store.get_interview(cand.interview_id)
    source = FsPath(iv.source_path)
    w, h = picture_size(rs, cand)
    if not w or not source.is_file():
        return JSONResponse({"width": w, "height": h, "samples": []})
    start, end, rate = _face_range(request, rs, cand, iv)
    samples = cached_face_samples(request.app.state.workspace.faces, source, iv.sha256, start, end, rate)
    return JSONResponse({"width": w, "height": h, "samples": [
        {"t": s.time, "boxes": [[b.x, b.y, b.width, b.height] for b in s.boxes]} for s in samples]})


def _face_range(request: Request, rs: Any, cand: Candidate, iv: Any) -> tuple[float, float, float]:
    """The range and sampling the render of the reviewers' plan detects faces over when it blurs
    them (its cut on the source's frames, at the plan's sampling rate), so the page, the preview
    and the export share one detection in the face cache; else the candidate's cut at 2/s."""
    from review.app.routes_candidate import planner_of

    current = ReviewService(rs, planner_of(request, rs)).current_plan(cand.id)
    plan = current.plan if current is not None else None
    if plan is None or not plan.blur_faces:
        return cand.start, cand.end, 2.0
    end = min(plan.end, iv.duration) if iv.duration else plan.end  # as the render clips to the source
    return plan.start, end, plan.options.face_sample_fps
