"""Approved subtitle text (a plain string per language, as stored with a candidate version) timed
onto the speech, then cut into cues within the style limits by `pipeline.cues.build_cues`.

When the approved text is the transcript's own words (unedited), each word keeps its recognised
time. When it was edited, or is a translation, its words are laid over the speech in proportion
to their length, following the recognised words' timeline so that pauses stay silent on screen.
Times are float seconds on the source clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from pipeline.records import Cue, Word

_TOKEN_STRIP = re.compile(r"^[\W_]+|[\W_]+$")


def _norm(token: str) -> str:
    return _TOKEN_STRIP.sub("", unicodedata.normalize("NFKC", token).casefold())


def words_in(words: Sequence[Word], start: float, end: float) -> tuple[Word, ...]:
    """Words whose middle lies inside [start, end]."""
    return tuple(w for w in words if start <= (w.start + w.end) / 2 <= end)


def align_text(text: str, words: Sequence[Word], start: float, end: float) -> tuple[Word, ...]:
    """Timed words for `text`, using the recognised `words` (source clock) between start and end."""
    tokens = text.split()
    spoken = [w for w in words_in(words, start, end) if w.end > w.start]
    if not tokens:
        return ()
    if [_norm(t) for t in tokens] == [_norm(w.text) for w in spoken]:
        # Unedited: the approved words are the recognised ones (punctuation as approved).
        return tuple(Word(w.start, w.end, t, w.probability) for t, w in zip(tokens, spoken, strict=True))
    spans = [(w.start, w.end) for w in spoken] or [(start, end)]
    total = sum(b - a for a, b in spans)
    weights = [len(t) + 1 for t in tokens]
    scale = total / sum(weights)

    def at(offset: float) -> float:
        """Source time `offset` seconds of speech into the spans."""
        for a, b in spans:
            if offset <= b - a + 1e-9:
                return a + max(0.0, offset)
            offset -= b - a
        return spans[-1][1]

    out, done = [], 0.0
    for token, weight in zip(tokens, weights, strict=True):
        a, b = at(done), at(done + weight * scale)
        if b <= a:
            b = a + 0.01
        out.append(Word(round(a, 3), round(b, 3), token, 1.0))
        done += weight * scale
    return tuple(out)


def cues_for_text(text: str, words: Sequence[Word], start: float, end: float, language: str,
                  fps: float = 25.0) -> tuple[Cue, ...]:
    """Cues (source clock) for approved subtitle `text` in `language` over the cut [start, end]."""
    from pipeline.cues import CueOptions, build_cues

    timed = align_text(text, words, start, end)
    if not timed:
        return ()
    return build_cues(timed, CueOptions(language=language, fps=fps))
