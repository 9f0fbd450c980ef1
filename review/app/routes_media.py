"""Media for the review player. A URL names a candidate id, never a path: the proxy is looked up
from the candidate's source sha256 inside `workspace/proxies` and served with Range support."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response

from review import present
from review.app.deps import RS, CurrentUser
from review.app.routes_candidate import as_sentences
from review.proxy_files import proxy_path

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]


@router.api_route("/media/candidates/{candidate_id}/proxy.mp4", methods=["GET", "HEAD"])
def proxy(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
) -> Response:
    cand = rs.store.get_candidate(candidate_id)
    path = proxy_path(request.app.state.workspace, cand.source_sha256)
    if path is None:
        return PlainTextResponse("no review proxy for this candidate", status_code=404)
    # FileResponse answers Range requests (206) so the player can seek
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=300"})


@router.get("/media/candidates/{candidate_id}/subtitles.vtt")
def subtitles(
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    lang: Annotated[str, Query(max_length=12, pattern=r"^[A-Za-z0-9-]*$")] = "",
) -> Response:
    cand = rs.store.get_candidate(candidate_id)
    ctx = rs.interview_context(candidate_id)
    sentences = as_sentences(ctx)
    language = lang or cand.language or "en"
    if language in cand.subtitles:
        text = cand.subtitles[language]
    elif language in cand.translations:
        text = cand.translations[language]
    else:
        return PlainTextResponse("no subtitle text in that language", status_code=404)
    cues = present.preview_cues(text, sentences, cand.start, cand.end)
    if language != (cand.language or "en"):
        # a translation has no word timings of its own: spread it over the spoken words
        cues = present.preview_cues(text + " ", sentences, cand.start, cand.end)
    return Response(present.format_vtt(cues), media_type="text/vtt; charset=utf-8")
