"""One test per failure mode of issue 15, each in its own wording (not from the eval corpus)."""

from __future__ import annotations

import pytest

from pipeline.themes import Flagger
from pipeline.themes.cue_phrases import CueMatcher
from pipeline.themes.taxonomy import load_taxonomy
from tests.pipeline.themes_support import real_flagger

RISKS = {
    "pro_group_advocacy", "martyrdom_glorification", "justifies_violence",
    "intent_to_return", "self_incrimination", "identifying_details",
}  # fmt: skip


@pytest.fixture(scope="module")
def cues() -> CueMatcher:
    return CueMatcher(load_taxonomy())


# Cues fire on ordinary words.
def test_they_started_is_no_justification_cue(cues: CueMatcher) -> None:
    hits = cues.find("They started handing out leaflets outside the school.", "en")
    assert "justifies_violence" not in hits


def test_propaganda_mention_is_no_false_promise_cue(cues: CueMatcher) -> None:
    assert "false_promises" not in cues.find("In class we took their propaganda apart, clip by clip.", "en")


def test_trying_to_convince_is_no_admission_cue(cues: CueMatcher) -> None:
    assert "self_incrimination" not in cues.find("I tried to convince my cousins to come home with me.", "en")


# Cues ignore word and language boundaries.
def test_arabic_cue_never_inside_another_word(cues: CueMatcher) -> None:
    assert not cues.find("عندما رجعنا إلى القرية نمنا طويلا", "ar").get("disillusionment_exit")


def test_english_cue_never_reads_french(cues: CueMatcher) -> None:
    assert "intent_to_return" not in cues.find("Ma sœur nous a rejoints à Marseille l'été dernier.", "fr")


@pytest.fixture(scope="module")
def flagger() -> Flagger:
    return real_flagger()


def labels(flagger: Flagger, text: str, language: str | None = "en") -> set[str]:
    return set(flagger.flag_texts([text], language=language)[0].labels)


# Topic is taken for stance.
@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "In 2015 I took a flight to Gaziantep and crossed into Syria a week later.",
        "The police picked me up at the airport the day I landed.",
        "I became a Muslim at twenty, after long talks with a colleague.",
    ],
)
def test_travel_arrest_conversion_are_no_admission(flagger: Flagger, text: str) -> None:
    assert "self_incrimination" not in labels(flagger, text)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Their clips were shared in every group chat at my school.",
        "That winter I made up my mind to get away from them.",
    ],
)
def test_mentioning_the_group_or_leaving_is_no_advocacy(flagger: Flagger, text: str) -> None:
    assert "pro_group_advocacy" not in labels(flagger, text)


@pytest.mark.slow
def test_warning_not_to_go_back_is_no_intent_to_return(flagger: Flagger) -> None:
    found = labels(flagger, "I keep telling my nephew: never go back to those people.")
    assert "intent_to_return" not in found


@pytest.mark.slow
def test_condemning_an_attack_is_no_justification(flagger: Flagger) -> None:
    found = labels(flagger, "What they did at the concert hall was plain murder, nothing excuses it.")
    assert "justifies_violence" not in found


# Real risks pass as themes.
@pytest.mark.slow
def test_media_lying_about_the_group_is_advocacy(flagger: Flagger) -> None:
    found = labels(flagger, "The reporters here make up stories about the brothers, none of it is true.")
    assert found & RISKS


@pytest.mark.slow
def test_plain_admission_without_violent_words_is_a_risk(flagger: Flagger) -> None:
    assert labels(flagger, "I was part of all of it, I did whatever work they handed me.") & RISKS


# Real testimony is elliptic.
@pytest.mark.slow
def test_elliptic_testimony_still_carries_its_theme(flagger: Flagger) -> None:
    found = labels(flagger, "After that morning, the way I saw them was never the same again.")
    assert found & {"disillusionment_exit", "witnessed_brutality"}


# Other languages are read with a multilingual model, the language detected when not given.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Ils ont pendu des hommes sur le pont et laissé les corps des jours.", "witnessed_brutality"),
        ("قتلوا رجلا أمامنا في السوق وتركوا جثته هناك أياما.", "witnessed_brutality"),
    ],
)
def test_other_languages_flagged_by_the_model_with_language_in_reason(
    flagger: Flagger, text: str, label: str
) -> None:
    [flags] = flagger.flag_texts([text])
    assert label in flags.labels
    lang = "fr" if text.startswith("Ils") else "ar"
    assert f"({lang})" in flags.why[label] or f"{lang} text" in flags.why[label]
    assert flags.model_version == flagger.model_version
