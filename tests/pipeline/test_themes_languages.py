"""Cue matching on word and language boundaries, Arabic clitics, and the language guess."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.themes.cue_phrases import CueMatcher, strip_clitics
from pipeline.themes.language import LANGUAGES, detect_language
from pipeline.themes.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def matcher() -> CueMatcher:
    return CueMatcher(load_taxonomy())


def test_arabic_regret_cue_not_inside_when(matcher: CueMatcher) -> None:
    # "عندما" (when) contains the letters of "ندم" (regret): no cue may fire inside it.
    hits = matcher.find("عندما خرجنا من البيت كان الجو باردا", "ar")
    assert "disillusionment_exit" not in hits


def test_arabic_cue_matches_behind_clitics(matcher: CueMatcher) -> None:
    assert "disillusionment_exit" in matcher.find("وندمت على كل شيء فعلته", "ar")
    assert strip_clitics("والشهداء") == "شهداء"


def test_english_cue_does_not_fire_in_french(matcher: CueMatcher) -> None:
    # "rejoint" is French for "joined"; the English "rejoin" cue must not read it.
    assert "intent_to_return" not in matcher.find("Mon frère a rejoint ma mère à Lyon.", "fr")
    assert "intent_to_return" not in matcher.find("Mon frère a rejoint ma mère à Lyon.", "en")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Je suis rentré chez ma mère après la prison.", "fr"),
        ("رجعت إلى بيت أهلي بعد السجن.", "ar"),
        ("I went back to my mother's house after prison.", "en"),
        ("Unë u ktheva në shtëpi të nënës pas burgut.", "sq"),
        ("Ja sam se vratio kući kod majke nakon zatvora.", "bs"),
    ],
)
def test_language_guess(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@given(st.text(max_size=80))
def test_language_guess_total(text: str) -> None:
    assert detect_language(text) in LANGUAGES


def test_every_cue_example_behaves() -> None:
    # Each entry's cue examples: positives must fire a cue of that entry, negatives must not.
    tax = load_taxonomy()
    matcher = CueMatcher(tax)
    checked = 0
    for entry in tax.entries:
        for lang, text, fires in entry.cue_examples:
            hits = matcher.find(text, lang).get(entry.id, [])
            positive = [h for h in hits if not h.negated]
            assert bool(positive) == fires, f"{entry.id} [{lang}] {text!r}: fired={bool(positive)}"
            checked += 1
    assert checked >= 26
