"""The candidate builder on hand-built sentences (pure code, fast)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from pipeline.candidates import (
    BODY_EXCLUDED_RISKS,
    DEFAULT_RISK_IDS,
    CandidateOptions,
    CandidateProposal,
    propose_candidates,
)
from pipeline.records import Sentence, SentenceFlags, Word

THEME = "disillusionment_exit"


@dataclass(frozen=True, slots=True)
class W:
    risk: str
    sentence_index: int
    start: float
    end: float
    text: str


def interview(
    spec: list[tuple[float, tuple[str, ...]]],
    gap: float = 0.6,
    texts: dict[int, str] | None = None,
    prob: float = 0.9,
) -> tuple[tuple[Sentence, ...], list[SentenceFlags]]:
    """Sentences of the given durations (seconds) and labels, `gap` seconds of silence apart;
    words 0.4 s long with 0.1 s between them."""
    sents, flags, t = [], [], 1.0
    for i, (dur, labels) in enumerate(spec):
        words, w = [], t
        while w + 0.4 <= t + dur + 1e-9:
            words.append(Word(round(w, 3), round(w + 0.4, 3), f"w{i}", prob))
            w += 0.5
        text = (texts or {}).get(i, f"I saw what happened there number {i}.")
        sents.append(Sentence(i, words[0].start, words[-1].end, text, tuple(words), "en"))
        flags.append(SentenceFlags(text, labels, dict.fromkeys(labels, 0.8)))
        t = words[-1].end + gap
    return tuple(sents), flags


def check_invariants(
    props: tuple[CandidateProposal, ...], sents: tuple[Sentence, ...], o: CandidateOptions
) -> None:
    by_index = {s.index: k for k, s in enumerate(sents)}
    all_words = [w for s in sents for w in s.words]
    seen: set[int] = set()
    for p in props:
        assert o.min_duration - 1e-6 <= p.end - p.start <= o.max_duration + 1e-6, p
        ks = [by_index[i] for i in p.sentence_indices]
        assert ks == list(range(ks[0], ks[-1] + 1)), "whole consecutive sentences"
        first, last = sents[ks[0]], sents[ks[-1]]
        # Edges sit in silence: around the first and last words, and never inside any word.
        assert p.start <= first.words[0].start and p.end >= last.words[-1].end
        if ks[0] > 0:
            assert p.start >= sents[ks[0] - 1].words[-1].end
        if ks[-1] < len(sents) - 1:
            assert p.end <= sents[ks[-1] + 1].words[0].start
        for w in all_words:
            assert not (w.start < p.start < w.end) and not (w.start < p.end < w.end)
        assert not seen & set(p.sentence_indices), "a sentence in two candidates"
        seen |= set(p.sentence_indices)
        assert p.themes and p.reasons and 0 <= p.rank <= 1
    assert [p.rank for p in props] == sorted((p.rank for p in props), reverse=True)


def test_no_themes_no_candidates_and_flags_must_align():
    sents, flags = interview([(8, ())] * 5)
    assert propose_candidates(sents, flags) == ()
    with pytest.raises(ValueError):
        propose_candidates(sents, flags[:-1])
    assert propose_candidates((), []) == ()


def test_themed_run_becomes_one_padded_sentence_bounded_candidate():
    sents, flags = interview(
        [(6, ()), (8, (THEME,)), (9, (THEME,)), (7, (THEME,)), (6, ()), (6, ())], gap=0.8
    )
    o = CandidateOptions()
    (p,) = propose_candidates(sents, flags, options=o)
    assert p.sentence_indices == (1, 2, 3)
    assert p.themes == (THEME,) and p.risks == ()
    # Padding: 0.3 s, but never past half of the 0.8 s silence.
    assert p.start == pytest.approx(sents[1].words[0].start - 0.3)
    assert p.end == pytest.approx(sents[3].words[-1].end + 0.3)
    check_invariants((p,), sents, o)


def test_padding_is_clamped_to_half_the_silence_and_media_bounds():
    sents, flags = interview([(5, ()), (8, (THEME,)), (9, (THEME,)), (5, ())], gap=0.2)
    (p,) = propose_candidates(sents, flags)
    assert p.start == pytest.approx(sents[1].words[0].start - 0.1)
    assert p.end == pytest.approx(sents[2].words[-1].end + 0.1)
    sents, flags = interview([(9, (THEME,)), (9, (THEME,))])
    (p,) = propose_candidates(sents, flags, duration=sents[-1].end + 0.05)
    assert p.start == pytest.approx(sents[0].start - 0.3) and p.end == pytest.approx(sents[-1].end + 0.05)


def test_short_runs_grow_to_the_minimum_with_neighbours_or_are_dropped():
    sents, flags = interview([(6, ()), (6, (THEME,)), (6, ()), (30, ())], gap=0.5)
    (p,) = propose_candidates(sents, flags)
    assert p.end - p.start >= 15 and 1 in p.sentence_indices
    alone, alone_flags = interview([(5, (THEME,))])
    assert propose_candidates(alone, alone_flags) == ()  # cannot reach 15 s


def test_the_minimum_counts_padding_as_the_clip_is_cut():
    # A lone 14.6 s answer (a closing warning after the interviewer's question) makes a 15.2 s
    # clip with its padding: it is proposed, and one that stays short with padding is not.
    words_only = interview([(14.6, (THEME,))])
    (p,) = propose_candidates(*words_only)
    assert p.end - p.start >= 15
    assert propose_candidates(*interview([(14.3, (THEME,))]), duration=20.0) == ()


def test_long_runs_are_split_near_the_target_within_the_maximum():
    sents, flags = interview([(10, (THEME,))] * 24)  # about four minutes on theme
    o = CandidateOptions()
    props = propose_candidates(sents, flags, options=o)
    assert len(props) >= 3
    check_invariants(props, sents, o)
    assert all(abs(p.duration - o.target_duration) < 15 for p in props[:-1])


def test_excluded_risks_stay_out_of_the_body_where_boundaries_allow():
    spec = [(8, (THEME,)), (8, (THEME,)), (7, (THEME, "justifies_violence")), (8, (THEME,)), (9, (THEME,))]
    sents, flags = interview(spec)
    props = propose_candidates(sents, flags)
    assert props and all(2 not in p.sentence_indices for p in props)
    assert all(not set(p.risks) & set(BODY_EXCLUDED_RISKS) for p in props)
    check_invariants(props, sents, CandidateOptions())


def test_excluded_risk_is_carried_visibly_when_it_cannot_be_avoided():
    spec = [(7, ("martyrdom_glorification",)), (9, (THEME,)), (7, ("pro_group_advocacy",))]
    sents, flags = interview(spec)
    (p,) = propose_candidates(sents, flags)
    assert 1 in p.sentence_indices and len(p.sentence_indices) == 2
    included = {"martyrdom_glorification", "pro_group_advocacy"} & set(p.risks)
    assert len(included) == 1
    assert any("reviewers must acknowledge" in r for r in p.reasons)
    clean = propose_candidates(*interview([(7, ()), (9, (THEME,)), (7, ())]))[0]
    assert p.rank < clean.rank


def test_other_risks_and_credibility_travel_with_every_candidate():
    spec = [(8, (THEME,)), (8, (THEME, "identifying_details")), (8, ()), (40, ()), (8, ("coercion_fear",)),
            (9, ("coercion_fear",))]  # fmt: skip
    sents, flags = interview(spec, gap=1.0)  # the 40 s theme-less stretch keeps the runs apart
    warn = W("intent_to_return", 3, sents[3].start, sents[3].end, "I would go back.")
    props = propose_candidates(sents, flags, warnings=[warn])
    assert len(props) == 2
    assert all("credibility" in p.risks for p in props)
    first = next(p for p in props if 0 in p.sentence_indices)
    assert "identifying_details" in first.risks
    assert any("credibility warning" in r for r in first.reasons)


def test_context_sentence_added_for_a_dependent_opening():
    texts = {
        1: "Before that I had been a teacher for years in my town.",
        2: "And then they made me watch it.",
    }
    spec = [(6, ()), (8, ()), (9, (THEME,)), (8, (THEME,)), (8, ())]
    sents, flags = interview(spec, texts=texts)
    (p,) = propose_candidates(sents, flags)
    assert p.sentence_indices[0] == 1


def test_rank_reflects_theme_strength_confidence_and_fit():
    a_sents, a_flags = interview([(9, (THEME,)), (9, (THEME,)), (9, (THEME,)), (9, (THEME,)), (9, (THEME,))])
    low_sents, low_flags = interview([(9, (THEME,))] * 5, prob=0.3)
    (a,), (low,) = propose_candidates(a_sents, a_flags), propose_candidates(low_sents, low_flags)
    assert a.rank > low.rank and "confidence 0.90" in a.reasons[1]
    weak = [SentenceFlags(f.text, f.labels, dict.fromkeys(f.labels, 0.2)) for f in a_flags]
    (w,) = propose_candidates(a_sents, weak)
    assert a.rank > w.rank
    short_sents, short_flags = interview([(8, (THEME,)), (8, (THEME,))])
    (s,) = propose_candidates(short_sents, short_flags)
    assert a.rank > s.rank  # ~45 s fits the target better than ~16 s


def test_overlapping_candidates_are_merged_or_deduplicated():
    # Two short themed runs separated by three theme-less sentences both grow into the middle.
    spec = [(6, (THEME,)), (5, ()), (5, ()), (5, ()), (6, ("coercion_fear",))]
    sents, flags = interview(spec)
    o = CandidateOptions(bridge_sentences=1)
    props = propose_candidates(sents, flags, options=o)
    check_invariants(props, sents, o)
    assert len(props) == 1 and set(props[0].themes) == {THEME, "coercion_fear"}


@pytest.mark.parametrize("seed", range(40))
def test_invariants_hold_on_random_interviews(seed):
    rng = random.Random(seed)
    labels = [THEME, "coercion_fear", "witnessed_brutality", *DEFAULT_RISK_IDS]
    spec = []
    for _ in range(rng.randint(1, 60)):
        k = rng.random()
        lab: tuple[str, ...] = ()
        if k < 0.45:
            lab = (rng.choice(labels[:3]),)
        elif k < 0.6:
            lab = (rng.choice(labels),)
        spec.append((rng.uniform(1.0, 19.0), lab))
    sents, flags = interview(spec, gap=rng.choice([0.05, 0.3, 1.0, 3.0, 7.0]))
    o = CandidateOptions(
        min_duration=rng.choice([10.0, 15.0]), max_duration=rng.choice([40.0, 90.0]), target_duration=30.0
    )
    props = propose_candidates(sents, flags, options=o)
    check_invariants(props, sents, o)
    for p in props:
        body_excluded = {r for i in p.sentence_indices for r in flags[i].labels if r in BODY_EXCLUDED_RISKS}
        assert body_excluded <= set(p.risks)


def test_default_risk_ids_match_the_taxonomy():
    taxonomy = pytest.importorskip("pipeline.themes.taxonomy")
    assert set(DEFAULT_RISK_IDS) == set(taxonomy.RISK_IDS)
    assert set(BODY_EXCLUDED_RISKS) <= set(taxonomy.CREDIBILITY_RISKS)
