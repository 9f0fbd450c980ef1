"""The review queue: views per person ("waiting for me", "my edits", "changes requested"),
filtered and paged in SQL (keyset cursors, not page numbers), best rank first; each row shows
approval progress and a snippet."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clips_metadata.queue_rows_repo import approval_counts, snippets
from clips_metadata.review_store import QueueFilter
from review.app.deps import RS, CurrentUser, render
from review.rules import required_approvals

router = APIRouter()
VIEWS = {"": "All candidates", "waiting": "Waiting for me", "mine": "My edits",
         "changes": "Changes requested"}


@router.get("/")
def queue(
    request: Request,
    user: CurrentUser,
    rs: RS,
    view: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=30)] = "",
    theme: Annotated[str, Query(max_length=100)] = "",
    risk: Annotated[str, Query(max_length=100)] = "",
    interview: Annotated[str, Query(max_length=12)] = "",
    language: Annotated[str, Query(max_length=20)] = "",
    after: Annotated[str, Query(max_length=60)] = "",
    before: Annotated[str, Query(max_length=60)] = "",
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    view = view if view in VIEWS else ""
    interview_id = int(interview) if interview.strip().isdigit() else None
    if view == "changes":
        status = "changes_requested"
    flt = QueueFilter(status=status, theme=theme, risk=risk, interview=interview_id, language=language,
                      waiting_for=user.name if view == "waiting" else "",
                      edited_by=user.name if view == "mine" else "")
    with rs.store.shared_reads():  # the queue, its counts and snippets in one read transaction
        result = rs.queue(flt, after=after, before=before, per_page=per_page)
        ids = [c.id for c in result.items]
        params = {k: v for k, v in (("view", view), ("status", status), ("theme", theme), ("risk", risk),
                                    ("interview", interview), ("language", language)) if v}

        def page_url(where: str, cursor: str) -> str:
            return "/?" + urlencode({**params, where: cursor, "per_page": per_page})

        def view_url(v: str) -> str:
            return "/?" + urlencode({"view": v}) if v else "/"

        return render(request, "queue.html", {
            "result": result, "filters": flt, "interview": interview, "facets": rs.facets(),
            "view": view, "views": [(k, label, view_url(k)) for k, label in VIEWS.items()],
            "approved": approval_counts(rs.store, ids), "snippets": snippets(rs.store, ids),
            "needed": {c.id: required_approvals(c.risks) for c in result.items},
            "prev_url": page_url("before", result.prev_before) if result.prev_before else "",
            "next_url": page_url("after", result.next_after) if result.next_after else "",
        }, user=user)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    from fastapi.responses import FileResponse

    from review.app import STATIC

    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")
