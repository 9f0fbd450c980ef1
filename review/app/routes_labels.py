"""Label corrections on the candidate page: dismiss a false flag, add a missed label (issue 15).

The partial `_flag_actions.html` renders the forms per sentence; its data comes from the
`label_corrections(request, candidate)` template global installed by `install`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from clips_metadata.corrections_repo import CorrectionsRepo, SentenceCorrections
from pipeline.errors import CounterclipsError
from review.app.deps import RS, CurrentUser, flash
from review.labelling import CORRECTING_ROLES, MAX_REASON, correct_labels, taxonomy_labels

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
ERROR_KEY = "label_error"


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
    if action not in ("dismiss", "add"):
        request.session[ERROR_KEY] = {"sentence": sentence, "message": f"unknown action {action!r}"}
        return back
    add, remove = ((label,), ()) if action == "add" else ((), (label,))
    try:
        correct_labels(CorrectionsRepo(rs.store), candidate_id, sentence, add=add, remove=remove,
                       reason=reason, actor=user.name, role=user.role)
    except CounterclipsError as exc:
        request.session[ERROR_KEY] = {"sentence": sentence, "message": str(exc)[:300]}
        return back
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
        "labels": taxonomy_labels(),
        "can_correct": user is not None and user.role in CORRECTING_ROLES,
        "error": request.session.pop(ERROR_KEY, None) or {},
        "empty": SentenceCorrections(),
    }
    request.state.label_corrections = out
    return out


def install(app: Any) -> None:
    """Add the router and the template global."""
    app.include_router(router)
    app.state.templates.env.globals["label_corrections"] = label_corrections
