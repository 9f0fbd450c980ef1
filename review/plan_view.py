"""What the candidate page shows of the publication plan: each redaction inline.

`redacted_segments(text, terms)` splits a text into plain runs and redactions (original struck
through, replacement after it), found by the same `pipeline.terms.TermMatcher` the export uses,
so the reviewer reads what the audience will.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.terms import IdentifyingWord, Term, TermError, TermMatcher, redaction_terms


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text; `replacement` is set when the run is a redacted word."""

    text: str
    replacement: str = ""

    @property
    def redacted(self) -> bool:
        return bool(self.replacement)


def redacted_segments(text: str, terms: Sequence[Term]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    at = 0
    for m in TermMatcher(terms).find(text):
        if m.start > at:
            out.append(Segment(text[at:m.start]))
        out.append(Segment(text[m.start:m.end], m.term.replacement))
        at = m.end
    if at < len(text):
        out.append(Segment(text[at:]))
    return tuple(out)


def candidate_terms(store: Any, candidate_id: int) -> tuple[Term, ...]:
    """The terms the candidate's plan hides, with their replacements (empty when the registry
    entry cannot give a safe set: the plan then refuses too)."""
    from review.plans import editor_redactions

    cand = store.get_candidate(candidate_id)
    person = store.get_interviewee_by_id(store.get_interview(cand.interview_id).interviewee_id)
    opts = dict(cand.render_options)
    extra, _ = editor_redactions(cand.redactions)
    try:
        words = [IdentifyingWord.parse(w) for w in (*person.identifying_words, *extra) if w.strip()]
        return redaction_terms(person.real_names, words, person.pseudonym,
                               shows_name=person.consent.name and not opts.get("redact_names"))
    except TermError:
        return ()


def text_redactions(store: Any, candidate_id: int) -> dict[str, tuple[Segment, ...]]:
    """Per language of the candidate's subtitle and translation text: its segments, only for
    texts in which something is redacted."""
    cand = store.get_candidate(candidate_id)
    terms = candidate_terms(store, candidate_id)
    texts = {**cand.translations, **cand.subtitles}
    out = {}
    for lang, text in sorted(texts.items()):
        segs = redacted_segments(str(text), terms)
        if any(s.redacted for s in segs):
            out[lang] = segs
    return out
