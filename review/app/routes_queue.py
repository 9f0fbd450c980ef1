"""The review queue: filtered and paged in SQL, best rank first."""

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
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    interview_id = int(interview) if interview.strip().isdigit() else None
    flt = QueueFilter(status=status, theme=theme, risk=risk, interview=interview_id, language=language)
    result = rs.queue(flt, page=page, per_page=per_page)
    params = {k: v for k, v in (("status", status), ("theme", theme), ("risk", risk),
                                ("interview", interview), ("language", language)) if v}

    def page_url(n: int) -> str:
        return "/?" + urlencode({**params, "page": n, "per_page": per_page})

    return render(request, "queue.html", {
        "result": result, "filters": flt, "interview": interview, "facets": rs.facets(),
        "prev_url": page_url(page - 1) if page > 1 else "",
        "next_url": page_url(page + 1) if page < result.pages else "",
    }, user=user)
