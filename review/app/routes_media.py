"""Media for the review player. A URL names a candidate id, never a path: the proxy is looked up
from the candidate's source sha256 inside `workspace/proxies` and served with Range support."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response

from review import present
from review.app.deps import RS, CurrentUser
from review.proxy_files import proxy_path
from review.transcript_views import as_sentences

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
    """The player's subtitles: the version's own cue track, as the plan burns it (the original
    language's stored track; a translation's track, checked or not, so translators see their
    draft), clamped to the cut. Only a translation that is free text with no track yet is spread
    over the spoken words."""
    from review.tracks import inside_cut
    from review.translating import clip_tracks, source_track

    cand = rs.store.get_candidate(candidate_id)
    language = lang or cand.language or "en"
    if language == (cand.language or "en"):
        cues = source_track(rs.store, cand).as_cues()
    else:
        from pipeline.translation.track import as_cues

        track = clip_tracks(rs.store, candidate_id, by=user.name).tracks.get(language)
        if track is not None:
            cues = as_cues(track)
        elif str(cand.translations.get(language, "")).strip():
            sentences = as_sentences(rs.interview_context(candidate_id))
            cues = present.preview_cues(cand.translations[language] + " ", sentences, cand.start, cand.end)
        else:
            return PlainTextResponse("no subtitle text in that language", status_code=404)
    return Response(present.format_vtt(inside_cut(cues, cand.start, cand.end)),
                    media_type="text/vtt; charset=utf-8")
