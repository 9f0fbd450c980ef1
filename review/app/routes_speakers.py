"""Who speaks, on the candidate page (issue 16): the diarized speakers, the interviewer's
sentences greyed, the question card, and the form that swaps speakers or names another one as
the interviewee. The rule of a change is `review.speaker_choice.choose_interviewee`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from clips_metadata.speakers_repo import SpeakersRepo, sentence_speaker
from clips_metadata.stored_records import Candidate
from review.app.deps import RS, CurrentUser, flash
from review.speaker_choice import SpeakerChoiceError, choose_interviewee, interviewee_for

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
def field_error(request: Request, where: str, message: str | None = None) -> str:
    """Set (with `message`) or take the one-line error shown next to the form `where`."""
    if message is not None:
        request.session[f"error_{where}"] = message[:300]
        return message
    return str(request.session.pop(f"error_{where}", ""))


def speakers_context(rs: Any, cand: Candidate, request: Request) -> dict[str, Any]:
    """What `_speakers.html` shows: speakers with their seconds, the interviewee, and the
    transcript's sentences around the clip with their speaker (others are greyed)."""
    error = field_error(request, "speakers")
    found = SpeakersRepo(rs.store).get(cand.interview_id)
    if found is None or not found.seconds:
        return {"people": None}
    interviewee = interviewee_for(cand.render_options, found.interviewee)
    sentences = rs.store.get_sentences(cand.transcript_id)
    near = [s for s in sentences if s.end > cand.start - 20 and s.start < cand.end + 5]
    rows = [{"index": s.index, "start": s.start, "text": s.text, "speaker": sentence_speaker(s) or "?",
             "other": (sentence_speaker(s) or interviewee) != interviewee,
             "in_clip": s.end > cand.start and s.start < cand.end} for s in near]
    question = (cand.render_options or {}).get("question_card") or None
    return {"people": {"speakers": found.seconds, "interviewee": interviewee, "error": error,
                       "detected": found.interviewee, "rows": rows, "question": question}}


def _back(candidate_id: int) -> RedirectResponse:
    return RedirectResponse(f"/candidates/{candidate_id}#speakers", status_code=303)


@router.post("/candidates/{candidate_id}/speakers")
def set_speakers(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    interviewee: Annotated[str, Form(max_length=20)] = "",
    swap: Annotated[str, Form(max_length=5)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        change = choose_interviewee(rs, candidate_id, version, chosen=interviewee, swap=bool(swap),
                                   actor=user.name, role=user.role, note=note)
    except SpeakerChoiceError as exc:
        field_error(request, "speakers", str(exc))
        return _back(candidate_id)
    if change.changed:
        flash(request, f"{change.chosen} is now the interviewee of this clip; back to proposed")
    else:
        flash(request, f"{change.chosen} is already the interviewee")
    return _back(candidate_id)
