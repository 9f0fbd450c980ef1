"""Whisper's English translation laid onto the original sentences, on the original's clock.

Flagging reads English and reviewers see both texts side by side, so each original sentence gets
the English text that overlaps it most in time.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.records import Sentence, Transcript


def english_sentences(transcript: Transcript) -> tuple[Sentence, ...]:
    """Whisper's English translation as sentences on the original's clock (empty when none)."""
    from pipeline.sentences import build_sentences

    tr = transcript.translation
    if tr is None or not tr.segments:
        return ()
    words = tuple(w for s in tr.segments for w in s.words)
    if words:
        return build_sentences(words, "en")
    # Translation without word times: one sentence per segment is the best clock we have.
    return tuple(
        Sentence(i, s.start, s.end, s.text.strip(), (), "en")
        for i, s in enumerate(tr.segments)
        if s.text.strip()
    )


def align_translations(originals: Sequence[Sentence], english: Sequence[Sentence]) -> list[str]:
    """English text per original sentence: each English sentence goes to the original it
    overlaps most in time (nearest middle when timing drifted apart)."""
    out: list[list[str]] = [[] for _ in originals]
    if not originals:
        return []
    for e in english:
        overlaps = [max(0.0, min(e.end, o.end) - max(e.start, o.start)) for o in originals]
        best = max(range(len(originals)), key=lambda i: overlaps[i])
        if overlaps[best] <= 0:
            mid = (e.start + e.end) / 2
            best = min(
                range(len(originals)), key=lambda i: abs((originals[i].start + originals[i].end) / 2 - mid)
            )
        out[best].append(e.text.strip())
    return [" ".join(x) for x in out]
