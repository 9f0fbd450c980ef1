"""The translation view (issue 17): one language's track of one candidate, cue by cue.

GET /candidates/{id}/translate[?lang=L] shows the source cue, the English pivot and the target
cue side by side with memory suggestions and per-track status controls; the player loops the
current cue (review/static/translate.js). POST .../cues/{source_id} saves or confirms one cue
(JSON for the page's script, a redirect for a plain form); POST .../status starts the track,
confirms all, marks it translated or checked. Everything goes through `review.translating`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from clips_metadata.errors import NotFoundError
from review.app.deps import CurrentUser, flash, render
from review.proxy_files import proxy_path

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
Lang = Annotated[str, Path(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=20)]
STATUS_ACTIONS = ("start", "confirm_all", "translated", "check")


def _store(request: Request) -> Any:
    return request.app.state.review_store.store


def _pivot(store: Any, cand: Any, source: Any) -> dict[str, str]:
    """Per source cue, the English translation spoken over it (Whisper's, on the same clock)."""
    try:
        tr = store.load_transcript(cand.transcript_id).translation
    except NotFoundError:
        return {}
    if tr is None:
        return {}
    out = {}
    for cue in source.cues:
        words = [s.text.strip() for s in tr.segments if s.end > cue.start and s.start < cue.end]
        out[cue.id] = " ".join(w for w in words if w)
    return out


def _languages(store: Any, cand: Any, tracks: dict[str, Any]) -> list[str]:
    from review.translating import approved_languages

    try:
        person = store.get_interviewee_by_id(store.get_interview(cand.interview_id).interviewee_id)
    except NotFoundError:
        person = None
    consented = [lang for lang in (person.consent.languages if person else ()) if lang != "*"]
    source = cand.language
    langs = {*consented, *tracks, *approved_languages(cand)} - {source}
    return sorted(langs)


@router.get("/candidates/{candidate_id}/translate")
def translate_page(request: Request, candidate_id: CandidateId, user: CurrentUser,
                   lang: Annotated[str, Query(max_length=20, pattern=r"^[A-Za-z0-9-]*$")] = "") -> Response:
    from pipeline.translation.limits import is_rtl_language, limits_for
    from pipeline.translation.track import track_problems
    from review.translating import clip_tracks, memory

    store = _store(request)
    ct = clip_tracks(store, candidate_id, by=user.name)
    cand = ct.candidate
    languages = _languages(store, cand, ct.tracks)
    lang = lang or (languages[0] if languages else "")
    track = ct.tracks.get(lang) if lang else None
    mine = {c.source_id: c for c in track.cues} if track else {}
    problems: dict[str, list[str]] = {}
    if track is not None:
        for p in track_problems(ct.source, track):
            note = " (warning)" if p.severity == "warning" else ""
            problems.setdefault(p.cue_id, []).append(p.message + note)
    mem = memory(store) if lang else None
    pivot = _pivot(store, cand, ct.source)
    rows = []
    for cue in ct.source.cues:
        target = mine.get(cue.id)
        text = " ".join(cue.lines)
        matches = mem.lookup(ct.source.language, text, lang, limit=3) if mem is not None and text else ()
        rows.append({"cue": cue, "target": target, "pivot": pivot.get(cue.id, ""),
                     "problems": problems.get(cue.id, []), "suggestions": matches})
    limits = limits_for(lang) if lang else None
    has_proxy = proxy_path(request.app.state.workspace, cand.source_sha256) is not None
    return render(request, "translate.html", {
        "c": cand, "source": ct.source, "lang": lang, "languages": languages, "track": track, "rows": rows,
        "rtl": bool(lang) and is_rtl_language(lang), "limits": limits, "has_proxy": has_proxy,
        "source_rtl": is_rtl_language(ct.source.language),
        "status_error": request.session.pop("status_error", "")}, user=user)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/candidates/{candidate_id}/translate/{lang}/cues/{source_id}")
def save_cue(request: Request, candidate_id: CandidateId, lang: Lang, user: CurrentUser,
             source_id: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
             text: Annotated[str, Form(max_length=2000)] = "",
             action: Annotated[str, Form(max_length=10)] = "save") -> Response:
    from pipeline.translation.errors import TranslationError
    from pipeline.translation.limits import check_cue
    from review import translating as tr

    store = _store(request)
    try:
        if tr.get_track(store, candidate_id, lang) is None:
            tr.start_track(store, candidate_id, lang, user=user.name)
        if action == "confirm":
            track = tr.confirm_cue(store, candidate_id, lang, source_id, user=user.name)
        else:
            track = tr.edit_cue(store, candidate_id, lang, source_id, text, user=user.name)
    except TranslationError as exc:
        if _wants_json(request):
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)
        flash(request, str(exc), "error")
        return RedirectResponse(_back(candidate_id, lang, source_id), status_code=303)
    cue = track.cue(source_id)
    problems = [p.message + (" (warning)" if p.severity == "warning" else "")
                for p in check_cue(cue.lines, cue.start, cue.end, lang, cue_id=source_id)]
    if _wants_json(request):
        return JSONResponse({"ok": True, "status": track.status, "text": cue.text, "problems": problems,
                             "machine_made": cue.machine_made})
    return RedirectResponse(_back(candidate_id, lang, source_id), status_code=303)


def _back(candidate_id: int, lang: str, source_id: str) -> str:
    return f"/candidates/{candidate_id}/translate?lang={lang}#cue-{source_id}"


@router.post("/candidates/{candidate_id}/translate/{lang}/status")
def track_status(request: Request, candidate_id: CandidateId, lang: Lang, user: CurrentUser,
                 action: Annotated[str, Form(max_length=20)]) -> Response:
    from pipeline.translation.errors import TranslationError
    from review import translating as tr

    store = _store(request)
    try:
        if action == "start":
            tr.start_track(store, candidate_id, lang, user=user.name)
        elif action == "confirm_all":
            tr.confirm_all(store, candidate_id, lang, user=user.name)
        elif action == "translated":
            tr.mark_translated(store, candidate_id, lang, user=user.name)
        elif action == "check":
            tr.check_track(store, candidate_id, lang, user=user.name)
        else:
            raise TranslationError(f"unknown action {action!r}")
        track = tr.get_track(store, candidate_id, lang)
        flash(request, f"{lang} track is {track.status if track else 'missing'}")
    except TranslationError as exc:
        request.session["status_error"] = str(exc)[:300]
    return RedirectResponse(f"/candidates/{candidate_id}/translate?lang={lang}#status", status_code=303)
