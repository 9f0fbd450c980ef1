"""Phase-5 flagger changes: French sentences need the speaker as the one acting for an admission
or a plan to return; French and Arabic condemnations damp justification; thresholds calibrated on
English rows; translated training rows weighted. Each wording is written for these tests."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.themes import Flagger
from pipeline.themes.scoring import FlagOptions, fit_logistic
from tests.pipeline.themes_support import stance_score


@pytest.fixture(scope="module")
def probe() -> Flagger:
    return Flagger.cues_only(options=FlagOptions())


def test_a_french_sentence_without_the_speaker_admits_nothing(probe: Flagger) -> None:
    others = "Dans le quartier, deux garçons ont porté des armes pour eux pendant l'hiver."
    own = "J'ai porté des armes pour eux pendant l'hiver, deux fois."
    assert stance_score(probe, others, "self_incrimination", "fr") < stance_score(
        probe, own, "self_incrimination", "fr")


def test_the_french_interpreter_voice_counts_as_the_speaker(probe: Flagger) -> None:
    reported = "Il dit qu'il a transporté l'argent au-delà de la frontière pour eux."
    plain = "Le chauffeur a transporté l'argent au-delà de la frontière pour eux."
    assert stance_score(probe, reported, "self_incrimination", "fr") > stance_score(
        probe, plain, "self_incrimination", "fr")


def test_a_french_plan_to_return_needs_the_speaker(probe: Flagger) -> None:
    own = "Ma place est là-bas, avec eux, un jour je repars."
    others = "Les combattants sont repartis vers les montagnes au printemps."
    label = "intent_to_return"
    assert stance_score(probe, own, label, "fr") > stance_score(probe, others, label, "fr")


@pytest.mark.parametrize(("text", "language"), [
    ("L'attaque du marché, c'était un massacre, rien d'autre.", "fr"),
    ("Je condamne ce qu'ils ont fait aux otages.", "fr"),
    ("ما فعلوه في المسرح كان جريمة، لا أكثر.", "ar"),
    ("أدين كل هجوم على المدنيين.", "ar"),
])
def test_french_and_arabic_condemnations_damp_justification(probe: Flagger, text: str, language: str) -> None:
    assert stance_score(probe, text, "justifies_violence", language) < 0.5


def test_a_french_justification_is_not_damped(probe: Flagger) -> None:
    assert stance_score(probe, "Ces soldats, ils l'avaient mérité.", "justifies_violence", "fr") == (
        pytest.approx(0.5))


def test_without_the_option_french_is_read_as_before() -> None:
    old = Flagger.cues_only(options=FlagOptions(stance_fr_ar=False))
    text = "Dans le quartier, deux garçons ont porté des armes pour eux pendant l'hiver."
    assert stance_score(old, text, "self_incrimination", "fr") == pytest.approx(0.5)


def test_a_row_weight_below_one_counts_less_in_the_fit() -> None:
    # Two conflicting rows at the same point: the heavier one decides the sign.
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    light_negative = np.array([[1.0], [0.3], [1.0], [0.3]])
    w, _ = fit_logistic(x, y, light_negative, 8.0)
    assert w[0, 0] > w[0, 1]
