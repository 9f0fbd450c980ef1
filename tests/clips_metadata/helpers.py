"""Hand-built records for store tests (no media, no models)."""

from __future__ import annotations

import hashlib
from functools import partial

from pipeline.candidates import CandidateProposal
from pipeline.records import MediaInfo, Segment, Sentence, SentenceFlags, StreamInfo, Transcript, Word
from pipeline.themes.credibility import CredibilityWarning


def media(name: str = "a.mp4", content: str = "a", duration: float = 120.0) -> MediaInfo:
    return MediaInfo(
        path=f"/footage/{name}",
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        size=1000,
        container="mov,mp4",
        duration=duration,
        streams=(StreamInfo(0, "audio", "aac", duration, 16000, 1),),
    )


def sentences(
    n: int = 6, length: float = 8.0, gap: float = 1.0, language: str = "en"
) -> tuple[Sentence, ...]:
    out = []
    t = 0.5
    for i in range(n):
        words = tuple(
            Word(t + k * length / 4, t + (k + 1) * length / 4 - 0.1, f"w{i}_{k}", 0.9) for k in range(4)
        )
        out.append(Sentence(i, words[0].start, words[-1].end, f"Sentence number {i}.", words, language))
        t += length + gap
    return tuple(out)


def transcript(sents: tuple[Sentence, ...], language: str = "en") -> Transcript:
    return Transcript(
        language=language,
        language_probability=0.98,
        duration=sents[-1].end + 1,
        segments=tuple(Segment(s.start, s.end, s.text, s.words) for s in sents),
        backend="faster-whisper",
        model="base",
    )


def flags(sents: tuple[Sentence, ...], labels: dict[int, tuple[str, ...]]) -> list[SentenceFlags]:
    return [
        SentenceFlags(s.text, labels.get(s.index, ()), {lab: 0.8 for lab in labels.get(s.index, ())}, {})
        for s in sents
    ]


# The real records the pipeline hands to the store.
Proposal = partial(CandidateProposal, reasons=("test",))
Warning_ = CredibilityWarning
