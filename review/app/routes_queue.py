"""The review queue: filtered and paged in SQL (keyset cursors, not page numbers), best rank first."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clips_metadata.review_store import QueueFilter
from review.app.deps import RS, CurrentUser, render

router = APIRouter()


@router.get("/")
def queue(
    request: Request,
    user: CurrentUser,
    rs: RS,
    status: Annotated[str, Query(max_length=30)] = "",
    theme: Annotated[str, Query(max_length=100)] = "",
    risk: Annotated[str, Query(max_length=100)] = "",
    interview: Annotated[str, Query(max_length=12)] = "",
    language: Annotated[str, Query(max_length=20)] = "",
    after: Annotated[str, Query(max_length=60)] = "",
    before: Annotated[str, Query(max_length=60)] = "",
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    interview_id = int(interview) if interview.strip().isdigit() else None
    flt = QueueFilter(status=status, theme=theme, risk=risk, interview=interview_id, language=language)
    result = rs.queue(flt, after=after, before=before, per_page=per_page)
    params = {k: v for k, v in (("status", status), ("theme", theme), ("risk", risk),
                                ("interview", interview), ("language", language)) if v}

    def page_url(where: str, cursor: str) -> str:
        return "/?" + urlencode({**params, where: cursor, "per_page": per_page})

    return render(request, "queue.html", {
        "result": result, "filters": flt, "interview": interview, "facets": rs.facets(),
        "prev_url": page_url("before", result.prev_before) if result.prev_before else "",
        "next_url": page_url("after", result.next_after) if result.next_after else "",
    }, user=user)
