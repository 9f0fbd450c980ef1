"""Who speaks, on the candidate page (issue 16): the diarized speakers, the interviewer's
sentences greyed, the question card, and the form that swaps speakers or names another one as
the interviewee. A change is a new candidate version through the edit service (audited, back to
proposed): the version's render options record the interviewee's speaker and the subtitle text
follows that speaker's words unless a person wrote it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from clips_metadata.speakers_repo import SpeakersRepo, sentence_speaker
from clips_metadata.stored_records import Candidate
from pipeline.records import Sentence
from review import present
from review.app.deps import RS, CurrentUser, flash
from review.service import ReviewService

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]
KEY = "speakers"  # render-options key: {"interviewee": "S2"}


def interviewee_for(render_options: Any, default: str | None) -> str | None:
    """The candidate version's interviewee speaker: its own choice, else the interview's."""
    chosen = (render_options or {}).get(KEY) or {}
    return str(chosen["interviewee"]) if chosen.get("interviewee") else default


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


def _own_text(sentences: tuple[Sentence, ...], speaker: str, start: float, end: float) -> str:
    return " ".join(w.text.strip() for s in sentences if sentence_speaker(s) == speaker
                    for w in s.words if w.start >= start - 1e-3 and w.end <= end + 1e-3 and w.text.strip())


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
    cand = rs.store.get_candidate(candidate_id)
    found = SpeakersRepo(rs.store).get(cand.interview_id)
    if found is None or not found.speakers:
        field_error(request, "speakers", "this interview has no diarized speakers")
        return _back(candidate_id)
    current = interviewee_for(cand.render_options, found.interviewee)
    if swap:
        others = [s for s in found.speakers if s != current]
        if len(found.speakers) != 2 or not others:
            field_error(request, "speakers", "swap needs two speakers; choose the interviewee instead")
            return _back(candidate_id)
        chosen = others[0]
    else:
        chosen = interviewee.strip()
    if chosen not in found.speakers:
        field_error(request, "speakers", f"unknown speaker {chosen[:20]!r}")
        return _back(candidate_id)
    if chosen == current:
        flash(request, f"{chosen} is already the interviewee")
        return _back(candidate_id)
    changes: dict[str, Any] = {"render_options": {**dict(cand.render_options), KEY: {"interviewee": chosen}}}
    sentences = rs.store.get_sentences(cand.transcript_id)
    original = cand.language or "en"
    text = cand.subtitles.get(original, "")
    # The subtitles follow the chosen speaker's words unless a person wrote them.
    a, b = cand.start, cand.end
    if present.is_auto_text(text, sentences, a, b, cand.sentence_indices) or (
            current is not None and _norm(text) == _norm(_own_text(sentences, current, a, b))):
        changes["subtitles"] = {**cand.subtitles, original: _own_text(sentences, chosen, a, b)}
    ReviewService(rs).edit(candidate_id, version, changes, actor=user.name, role=user.role,
                           note=note or f"interviewee speaker {current or '?'} → {chosen}")
    flash(request, f"{chosen} is now the interviewee of this clip; back to proposed")
    return _back(candidate_id)


def _norm(text: str) -> str:
    return " ".join(text.split())
