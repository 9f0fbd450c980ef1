"""Flags for a transcript's sentences, through the English translation when there is one."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.records import Sentence, SentenceFlags
from pipeline.themes.scoring import Flagger

# A translated sentence also attaches to a second original when their overlap is at least this
# share of the translated sentence's duration (it spans both).
SPAN_SHARE = 0.25


def flag_sentences(
    sentences: Sequence[Sentence],
    flagger: Flagger,
    translated: Sequence[Sentence] | None = None,
    language: str | None = None,
) -> list[SentenceFlags]:
    """One SentenceFlags per original sentence, in order.

    With `translated` (English sentences timed on the same clock), the English sentences are scored
    and their labels, scores and reasons attach to the original sentences they overlap most in
    time (and to every other one they overlap by at least SPAN_SHARE of their duration). The
    original sentences are also flagged on their own text, in `language` (detected when None),
    by the multilingual model and that language's cues (with the pivot encoder, also through the
    English it overlaps); a label either reading finds is kept, with the higher score, and its
    reason says which text it came from.
    """
    originals = [s.text for s in sentences]
    if translated is None:
        return flagger.flag_texts(originals, language=language)
    attached: list[list[int]] = [[] for _ in sentences]
    for t_index, t in enumerate(translated):
        for o_index in attach_targets(t, sentences):
            attached[o_index].append(t_index)
    # The English it overlaps is each original's pivot (read only by the pivot encoder).
    extra = {}
    if getattr(flagger, "reads_pivots", False):
        extra["pivots"] = [" ".join(translated[i].text for i in idx) or None for idx in attached]
    own = flagger.flag_texts(originals, language=language, **extra)
    english = flagger.flag_texts([t.text for t in translated], language="en")
    out: list[SentenceFlags] = []
    for o_index, flags in enumerate(own):
        scores = dict(flags.scores)
        why = dict(flags.why)
        labels = list(flags.labels)
        for t_index in attached[o_index]:
            tf = english[t_index]
            for label, score in tf.scores.items():
                scores[label] = max(scores.get(label, 0.0), score)
            for label in tf.labels:
                if label not in labels:
                    labels.append(label)
                    why[label] = f'translation "{translated[t_index].text}": {tf.why.get(label, "")}'
        order = {label: i for i, label in enumerate(flagger.labels)}
        labels.sort(key=lambda x: order.get(x, len(order)))
        out.append(
            SentenceFlags(
                text=flags.text,
                labels=tuple(labels),
                scores=scores,
                why=why,
                model_version=flags.model_version,
            )
        )
    return out


def attach_targets(t: Sentence, originals: Sequence[Sentence]) -> list[int]:
    """Indices (positions in `originals`) that translated sentence `t` attaches to."""
    if not originals:
        return []
    overlaps = [max(0.0, min(t.end, o.end) - max(t.start, o.start)) for o in originals]
    best = max(range(len(originals)), key=lambda i: overlaps[i])
    if overlaps[best] <= 0:
        # No overlap (timing drift): the original whose middle is closest.
        mid2 = t.start + t.end  # twice the middle, to compare with start + end
        return [min(range(len(originals)), key=lambda i: abs(originals[i].start + originals[i].end - mid2))]
    duration = max(t.end - t.start, 1e-6)
    return [i for i, ov in enumerate(overlaps) if i == best or (ov > 0 and ov >= SPAN_SHARE * duration)]
