"""Interview-level risk: anything the speaker says anywhere that undermines them as a counter-voice."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.records import CredibilityWarning, Sentence, SentenceFlags
from pipeline.themes.taxonomy import CREDIBILITY_RISKS, RISK_IDS


def credibility_warnings(
    sentences: Sequence[Sentence], flags: Sequence[SentenceFlags]
) -> tuple[CredibilityWarning, ...]:
    """One warning per sentence flagged with a credibility risk, in transcript order."""
    if len(sentences) != len(flags):
        raise ValueError(f"{len(sentences)} sentences but {len(flags)} flags")
    out: list[CredibilityWarning] = []
    for sentence, f in zip(sentences, flags, strict=True):
        risks = tuple(r for r in CREDIBILITY_RISKS if r in f.labels)
        if not risks:
            continue
        top = max(risks, key=lambda r: f.scores.get(r, 0.0))
        out.append(
            CredibilityWarning(top, sentence.index, sentence.start, sentence.end, sentence.text, risks)
        )
    return tuple(out)


def risk_summary(flags: Sequence[SentenceFlags]) -> dict[str, int]:
    """How many sentences of an interview carry each risk (every risk id, zeros included)."""
    summary = dict.fromkeys(RISK_IDS, 0)
    for f in flags:
        for label in f.labels:
            if label in summary:
                summary[label] += 1
    return summary
