"""Where a candidate's exports were published (the distribution log), on the candidate page.

The candidate page includes `_publications.html`, which reads `publications_of(request, id)` (a
template global installed by `install`); `GET /candidates/{id}/publications` serves the same
section alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from review.app.deps import CurrentUser, render

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]


def publications_of(request: Request, candidate_id: int) -> tuple[Any, ...]:
    """The candidate's recorded publications (StoredPublication), by platform and date."""
    from clips_metadata.publications_repo import PublicationsRepo

    return PublicationsRepo(request.app.state.review_store.store).publications(candidate_id)


def install(app: Any) -> None:
    """Make `publications_of` available to templates and serve the section's route."""
    app.state.templates.env.globals["publications_of"] = publications_of
    app.include_router(router)


@router.get("/candidates/{candidate_id}/publications")
def publications_section(request: Request, candidate_id: CandidateId, user: CurrentUser) -> Response:
    request.app.state.review_store.store.get_candidate(candidate_id)  # 404 for an unknown id
    return render(request, "_publications.html", {"c": {"id": candidate_id}}, user=user)
