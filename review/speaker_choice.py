"""Who the interviewee of a candidate version is (issue 16): the one home of the rule that the
review page (and any other caller) applies when an editor swaps speakers or names another one.

A change is a new candidate version through the edit service (audited, back to proposed): the
version's render options record the interviewee's speaker, and the subtitle text follows that
speaker's words unless a person wrote it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clips_metadata.speakers_repo import SpeakersRepo, sentence_speaker
from pipeline.records import Sentence
from review import present
from review.rules import ReviewError
from review.service import ReviewService

KEY = "speakers"  # render-options key: {"interviewee": "S2"}


class SpeakerChoiceError(ReviewError):
    """The chosen interviewee cannot be set (no diarized speakers, unknown speaker, no swap)."""


@dataclass(frozen=True, slots=True)
class SpeakerChange:
    """What `choose_interviewee` did: `changed` is False when `chosen` already was the interviewee."""

    previous: str | None
    chosen: str
    changed: bool


def interviewee_for(render_options: Any, default: str | None) -> str | None:
    """The candidate version's interviewee speaker: its own choice, else the interview's."""
    chosen = (render_options or {}).get(KEY) or {}
    return str(chosen["interviewee"]) if chosen.get("interviewee") else default


def own_text(sentences: Sequence[Sentence], speaker: str, start: float, end: float) -> str:
    """The words `speaker` says inside [start, end], as one text."""
    return " ".join(w.text.strip() for s in sentences if sentence_speaker(s) == speaker
                    for w in s.words if w.start >= start - 1e-3 and w.end <= end + 1e-3 and w.text.strip())


def _norm(text: str) -> str:
    return " ".join(text.split())


def choose_interviewee(rs: Any, candidate_id: int, version: int, *, chosen: str = "", swap: bool = False,
                       actor: str, role: str, note: str = "") -> SpeakerChange:
    """Make `chosen` (or, with `swap`, the other of two speakers) the interviewee of the
    candidate's next version. Raises SpeakerChoiceError for a choice that cannot be made, and the
    edit service's errors (permission, stale version) as they come."""
    cand = rs.store.get_candidate(candidate_id)
    found = SpeakersRepo(rs.store).get(cand.interview_id)
    if found is None or not found.speakers:
        raise SpeakerChoiceError("this interview has no diarized speakers")
    current = interviewee_for(cand.render_options, found.interviewee)
    if swap:
        others = [s for s in found.speakers if s != current]
        if len(found.speakers) != 2 or not others:
            raise SpeakerChoiceError("swap needs two speakers; choose the interviewee instead")
        chosen = others[0]
    chosen = chosen.strip()
    if chosen not in found.speakers:
        raise SpeakerChoiceError(f"unknown speaker {chosen[:20]!r}")
    if chosen == current:
        return SpeakerChange(current, chosen, False)
    changes: dict[str, Any] = {"render_options": {**dict(cand.render_options), KEY: {"interviewee": chosen}}}
    sentences = rs.store.get_sentences(cand.transcript_id)
    original = cand.language or "en"
    text = cand.subtitles.get(original, "")
    # The subtitles follow the chosen speaker's words unless a person wrote them.
    a, b = cand.start, cand.end
    if present.is_auto_text(text, sentences, a, b, cand.sentence_indices) or (
            current is not None and _norm(text) == _norm(own_text(sentences, current, a, b))):
        changes["subtitles"] = {**cand.subtitles, original: own_text(sentences, chosen, a, b)}
    ReviewService(rs).edit(candidate_id, version, changes, actor=actor, role=role,
                           note=note or f"interviewee speaker {current or '?'} → {chosen}")
    return SpeakerChange(current, chosen, True)
