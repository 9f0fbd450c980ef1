"""Label corrections: dismiss a false flag, add a missed label (issue 15).

The candidate page lists each sentence's corrections and links to the sentence's own page
(`labels.html`), which holds the forms and shows a refused correction's error next to them. The
partial `_flag_actions.html` reads the candidate's corrections through the
`label_corrections(request, candidate)` template global installed by `install`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from clips_metadata.corrections_repo import CorrectionsRepo, SentenceCorrections
from pipeline.errors import CounterclipsError
from pipeline.translation.limits import is_rtl_language
from review.app.deps import RS, CurrentUser, flash, render
from review.labelling import CORRECTING_ROLES, MAX_REASON, correct_labels, taxonomy_labels

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
ERROR_KEY = "label_error"


@router.get("/candidates/{candidate_id}/labels")
def label_page(request: Request, candidate_id: CandidateId, user: CurrentUser, rs: RS,
               sentence: Annotated[int, Query(ge=0, le=2**31)]) -> Response:
    """One sentence's flags, the corrections made so far, and the forms to correct them."""
    if user.role not in CORRECTING_ROLES:
        raise HTTPException(403, "Only reviewers and admins correct labels.")
    cand = rs.store.get_candidate(candidate_id)
    ctx = rs.interview_context(candidate_id)
    s = next((x for x in ctx.sentences if x.index == sentence), None)
    if s is None:
        raise HTTPException(404, f"Candidate {candidate_id}'s transcript has no sentence {sentence}.")
    error = request.session.pop(ERROR_KEY, None) or {}
    mine = CorrectionsRepo(rs.store).for_transcript(cand.transcript_id).get(sentence, SentenceCorrections())
    return render(request, "labels.html", {
        "c": cand, "s": s, "mine": mine, "labels": taxonomy_labels(),
        "rtl": is_rtl_language(ctx.language or ""),
        "in_clip": {s.index} if s.end > cand.start and s.start < cand.end else set(),
        "error": error.get("message", "") if error.get("sentence") == sentence else "",
    }, user=user)


@router.post("/candidates/{candidate_id}/labels")
def post_label_correction(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    sentence: Annotated[int, Form(ge=0, le=2**31)],
    action: Annotated[str, Form(max_length=10)],
    label: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
) -> Response:
    back = RedirectResponse(f"/candidates/{candidate_id}#s{sentence}", status_code=303)
    # a refused correction goes back to the sentence's page, its error next to the forms
    retry = RedirectResponse(f"/candidates/{candidate_id}/labels?sentence={sentence}", status_code=303)
    if action not in ("dismiss", "add"):
        request.session[ERROR_KEY] = {"sentence": sentence, "message": f"unknown action {action!r}"}
        return retry
    add, remove = ((label,), ()) if action == "add" else ((), (label,))
    try:
        correct_labels(CorrectionsRepo(rs.store), candidate_id, sentence, add=add, remove=remove,
                       reason=reason, actor=user.name, role=user.role)
    except CounterclipsError as exc:
        request.session[ERROR_KEY] = {"sentence": sentence, "message": str(exc)[:300]}
        return retry
    done = "dismissed" if action == "dismiss" else "added"
    flash(request, f"sentence {sentence}: {label.replace('_', ' ')} {done}")
    return back


def label_corrections(request: Request, candidate: Any) -> dict[str, Any]:
    """What `_flag_actions.html` needs for the candidate page, read once per request."""
    cached = getattr(request.state, "label_corrections", None)
    if cached is not None:
        return cached
    repo = CorrectionsRepo(request.app.state.review_store.store)
    by_sentence: dict[int, SentenceCorrections] = repo.for_transcript(candidate.transcript_id)
    user_name = request.session.get("user")
    user = getattr(request.state, "user", None)  # read by deps.current_user for this request
    if user is None or user.name != user_name:
        user = request.app.state.review_store.get_user(user_name) if user_name else None
    out = {
        "by_sentence": by_sentence,
        "can_correct": user is not None and user.role in CORRECTING_ROLES,
        "empty": SentenceCorrections(),
    }
    request.state.label_corrections = out
    return out


def install(app: Any) -> None:
    """Add the router and the template global."""
    app.include_router(router)
    app.state.templates.env.globals["label_corrections"] = label_corrections
