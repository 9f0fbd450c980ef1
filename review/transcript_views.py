"""The transcript as the candidate page and its edits read it: the interview's stored sentence
views (`clips_metadata.sentence_views`) as pipeline Sentence records, made once per views object."""

from __future__ import annotations

from typing import Any

from clips_metadata.digest_cache import DigestLRU
from pipeline.records import Sentence, Word

# The transcript panel's views are shared while their content holds (clips_metadata.sentence_views):
# their Sentence records are made once per views object, not on each page view.
_SENTENCES = DigestLRU(4096, budget=100_000, weigh=lambda hit: sum(len(s.words) + 1 for s in hit[1]))


def as_sentences(context: Any) -> tuple[Sentence, ...]:
    views = context.sentences
    key = f"{id(views)}:{context.language}"
    hit = _SENTENCES.get(key)
    if hit is not None and hit[0] is views:  # the entry holds `views`, so its id is not reused
        return hit[1]  # type: ignore[no-any-return]
    out = _sentences_of(views, context.language)
    _SENTENCES.put(key, (views, out))
    return out


def _sentences_of(views: Any, language: str) -> tuple[Sentence, ...]:
    # The words keep their speaker: cue tracks derived from them mark a speaker change (issue 16).
    return tuple(Sentence(s.index, s.start, s.end, s.text,
                          tuple(Word(a, b, t, 1.0, s.speaker) for a, b, t in s.words), language)
                 for s in views)


def sentences_near(context: Any, start: float, end: float) -> tuple[Sentence, ...]:
    """The sentences that overlap [start, end] (a page view needs those around its clip only)."""
    return _sentences_of([s for s in context.sentences if s.end > start and s.start < end], context.language)


def words_of(sentences: tuple[Sentence, ...]) -> tuple[Word, ...]:
    return tuple(w for s in sentences for w in s.words)
