"""Synthetic review data for tests, the load benchmark and demos: interviewees, interviews,
word-timed sentences with theme/risk flags, and candidates, written through the real store.

Nothing here runs a model or touches media; the media sha256 may name a real file so a proxy
made from that file plays on the candidate page.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any

from clips_metadata.stored_records import Consent
from pipeline.candidates import CandidateProposal
from pipeline.records import MediaInfo, Segment, Sentence, SentenceFlags, StreamInfo, Transcript, Word
from pipeline.themes.credibility import CredibilityWarning

THEMES = ("witnessed_brutality", "hypocrisy_corruption", "false_promises", "mistreatment_within",
          "coercion_fear", "disillusionment_exit", "warning_to_others")
RISKS = ("pro_group_advocacy", "martyrdom_glorification", "justifies_violence", "intent_to_return",
         "self_incrimination", "identifying_details")

LINES = (
    "They promised us a just state but we found only fear.",
    "I saw them punish people in the square for nothing.",
    "The commanders lived in big houses while we went hungry.",
    "When I understood the lies I started planning to leave.",
    "I tell young people not to believe what they see online.",
    "My mother cried every night while I was away.",
    "Nobody could speak freely, everyone was watching everyone.",
    "Leaving was the hardest and the best thing I ever did.",
)


# Seeded data goes through the real records the pipeline hands to the store.
Proposal = partial(CandidateProposal, reasons=("seeded",))
Warn = CredibilityWarning


def make_sentences(texts: Sequence[str], *, start: float = 0.2, language: str = "en",
                   seconds_per_word: float = 0.3, gap: float = 0.4) -> tuple[Sentence, ...]:
    """Word-timed sentences laid end to end (seconds)."""
    out = []
    t = start
    for i, text in enumerate(texts):
        words = []
        for w in text.split():
            words.append(Word(round(t, 3), round(t + seconds_per_word * 0.85, 3), w, 0.95))
            t += seconds_per_word
        out.append(Sentence(i, words[0].start, words[-1].end, text, tuple(words), language))
        t += gap
    return tuple(out)


def add_interview(
    store: Any,
    *,
    pseudonym: str,
    texts: Sequence[str],
    labels: dict[int, tuple[str, ...]],
    why: dict[int, dict[str, str]] | None = None,
    sha256: str | None = None,
    path: str = "/footage/interview.mp4",
    duration: float | None = None,
    language: str = "en",
    translations: Sequence[str] | None = None,
    warnings: Sequence[Warn] = (),
    consent: Consent | None = None,
    seconds_per_word: float = 0.3,
    fps: float | None = None,
) -> tuple[int, int, tuple[Sentence, ...]]:
    """Register (or reuse) the interviewee, an interview, its transcript and flags.
    Returns (interview id, transcript id, sentences)."""
    from clips_metadata.errors import NotFoundError

    try:
        store.get_interviewee(pseudonym)
    except NotFoundError:
        store.add_interviewee(pseudonym, real_names=("Real Name",), consent=consent or Consent(
            face=True, voice=True, name=False, languages=("*",), platforms=("*",),
            expires=date(2099, 1, 1)))
    sents = make_sentences(texts, language=language, seconds_per_word=seconds_per_word)
    total = duration or (sents[-1].end + 0.5)
    media = MediaInfo(path=path, sha256=sha256 or hashlib.sha256(f"{pseudonym}{path}".encode()).hexdigest(),
                      size=1000, container="mov,mp4", duration=total,
                      streams=(StreamInfo(0, "video", "h264", total, width=640, height=360, fps=fps),
                               StreamInfo(1, "audio", "aac", total, 16000, 1)))
    interview, _ = store.register_interview(media, pseudonym, language=language)
    tr = Transcript(language=language, language_probability=0.99, duration=total,
                    segments=tuple(Segment(s.start, s.end, s.text, s.words) for s in sents),
                    backend="seed", model="none")
    info = store.add_transcript(interview.id, tr, sents, translations=translations)
    why = why or {}
    flags = [SentenceFlags(s.text, labels.get(s.index, ()), {lab: 0.8 for lab in labels.get(s.index, ())},
                           why.get(s.index, {lab: f"close to the {lab.replace('_', ' ')} exemplars"
                                             for lab in labels.get(s.index, ())}))
             for s in sents]
    store.save_flags(info.id, flags, list(warnings))
    return interview.id, info.id, sents


def add_candidate(store: Any, transcript_id: int, sents: Sequence[Sentence], indices: Sequence[int], *,
                  themes: Sequence[str], risks: Sequence[str] = (), rank: float = 0.5) -> int:
    chosen = [sents[i] for i in indices]
    p = Proposal(max(0.0, chosen[0].start - 0.1), chosen[-1].end + 0.1, tuple(indices), tuple(themes),
                 tuple(risks), rank)
    return store.add_candidates(transcript_id, [p])[0].id


def seed_bulk(store: Any, *, candidates: int = 10_000, per_interview: int = 100, seed: int = 7) -> int:
    """Many interviews with `per_interview` candidates each (benchmarks). Returns the count."""
    rng = random.Random(seed)
    made = 0
    n = 0
    while made < candidates:
        k = min(per_interview, candidates - made)
        texts = [LINES[(n + i) % len(LINES)] for i in range(k + 2)]
        labels = {i: (THEMES[(n + i) % len(THEMES)],) + ((RISKS[i % len(RISKS)],) if i % 5 == 0 else ())
                  for i in range(len(texts))}
        lang = ("en", "ar", "fr")[n % 3]
        _, tid, sents = add_interview(store, pseudonym=f"P{n % 50:02d}", texts=texts, labels=labels,
                                      path=f"/footage/bulk_{n:04d}.mp4", language=lang)
        props = []
        for i in range(k):
            idx = (i, i + 1)
            lab = set(labels[i]) | set(labels[i + 1])
            props.append(Proposal(sents[i].start, sents[i + 1].end, idx,
                                  tuple(sorted(x for x in lab if x in THEMES)),
                                  tuple(sorted(x for x in lab if x in RISKS)), round(rng.random(), 4)))
        store.add_candidates(tid, props)
        made += k
        n += 1
    return made
