"""Phase-7 flagger changes (issue 15): Arabic warnings not to believe or trust the group, Arabic
disavowals and denials, and "done with them" read as a refusal to go back. Each wording is
written for these tests."""

from __future__ import annotations

import pytest

from pipeline.themes import Flagger
from pipeline.themes.scoring import FlagOptions
from tests.pipeline.themes_support import stance_score


@pytest.fixture(scope="module")
def probe() -> Flagger:
    return Flagger.cues_only(options=FlagOptions())


@pytest.mark.parametrize("text", [
    "يا شباب، لا تصدقوا الصور التي ينشرونها عن حياتهم هناك.",  # don't believe the pictures
    "لا تثقوا بمن يكتب لكم في الليل عن الهجرة.",  # don't trust whoever writes to you
    "لا تنخدعوا بكلامهم الحلو، أنا انخدعت قبلكم.",  # don't be fooled
])
def test_an_arabic_warning_not_to_believe_them_is_not_advocacy_or_a_return(probe: Flagger, text: str) -> None:
    assert stance_score(probe, text, "pro_group_advocacy", "ar") < 0.5
    assert stance_score(probe, text, "intent_to_return", "ar") < 0.5


def test_an_arabic_sentence_without_a_warning_is_not_damped(probe: Flagger) -> None:
    # "they believed everything" has the verb, but nobody is told not to.
    text = "الناس في الحي صدقوا كل شيء في البداية."
    assert stance_score(probe, text, "pro_group_advocacy", "ar") >= 0.5


@pytest.mark.parametrize("text", [
    "لم أعد أصدق أي كلمة من خطبهم.",  # I no longer believe a word of their sermons
    "فقدت ثقتي بهم بعد معركة المطار.",  # I lost my trust in them
])
def test_an_arabic_disavowal_damps_advocacy(probe: Flagger, text: str) -> None:
    assert stance_score(probe, text, "pro_group_advocacy", "ar") < 0.5


@pytest.mark.parametrize("text", [
    "كنت أطبخ وأغسل فقط، لم أحمل بندقية في حياتي.",  # I never carried a rifle
    "لم ألمس سلاحا هناك، كان زوجي هو الذي يذهب.",  # I did not touch a weapon
])
def test_an_arabic_denied_deed_weighs_less_as_an_admission(probe: Flagger, text: str) -> None:
    admitted = "حملت بندقية وكنت أحرس المخزن في الليل."
    label = "self_incrimination"
    assert stance_score(probe, text, label, "ar") < stance_score(probe, admitted, label, "ar")


@pytest.mark.parametrize(("text", "language"), [
    ("بعد موت صديقي انتهيت منهم، في قلبي وفي رأسي.", "ar"),
    ("After the prison thing I am done with them, really done.", "en"),
    ("Après ça j'en ai fini avec eux, c'est terminé.", "fr"),
])
def test_done_with_them_is_not_a_plan_to_return(probe: Flagger, text: str, language: str) -> None:
    assert stance_score(probe, text, "intent_to_return", language) < 0.1


def test_not_done_with_them_is_not_a_refusal(probe: Flagger) -> None:
    # The negation reverses it: "I am not done with them" announces nothing of the kind.
    refused = stance_score(probe, "I am done with them.", "intent_to_return")
    assert stance_score(probe, "I am not done with them, not yet.", "intent_to_return") > refused
