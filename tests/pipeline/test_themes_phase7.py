"""Phase-7 flagger changes (issue 15): Arabic warnings not to believe or trust the group, Arabic
disavowals and denials, and "done with them" read as a refusal to go back. Each wording is
written for these tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.themes import Flagger
from pipeline.themes.multilingual import MultilingualEncoder
from pipeline.themes.scoring import FlagOptions, LabelledText, fit_heads, load_fitted, save_fitted
from pipeline.themes.taxonomy import load_taxonomy
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


# Arabic thresholds calibrated on the Arabic rows (FlagOptions.calibrate_arabic)


class _BlindEncoder(MultilingualEncoder):
    """Every sentence, in any language, gets the same vector: only word features tell sentences
    apart. A multilingual encoder, so Arabic text is read by the heads."""

    key = "blind"
    backend = "test"
    model_dir = Path("/nonexistent")

    def __init__(self) -> None:  # no model to load
        pass

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def _rows() -> list[LabelledText]:
    deeds = [("I drove the truck to the front", "قدت الشاحنة إلى الجبهة"),
             ("I carried the rifles for them", "حملت البنادق لهم"),
             ("I guarded the prisoners", "حرست الأسرى")]
    undergone = [("they drove us to the camp", "أخذونا إلى المخيم"),
                 ("they guarded us at night", "حرسونا في الليل"),
                 ("the weather was cold", "كان الطقس باردا")]
    rows = []
    for i, (en, ar) in enumerate(deeds * 12):
        rows += [LabelledText(en, "en", ("self_incrimination",), (), f"d{i}"),
                 LabelledText(ar, "ar", ("self_incrimination",), (), f"d{i}")]
    for i, (en, ar) in enumerate(undergone * 12):
        rows += [LabelledText(en, "en", (), (), f"u{i}"), LabelledText(ar, "ar", (), (), f"u{i}")]
    return rows


def test_arabic_thresholds_are_calibrated_and_kept_with_the_heads(tmp_path: Path) -> None:
    tax = load_taxonomy()
    options = FlagOptions(cache=False, language_shift=False, neighbour_words=False, calibrate_arabic=True)
    fitted = fit_heads(tax, _BlindEncoder(), options, _rows())
    assert fitted.arabic_thresholds is not None and fitted.arabic_thresholds.shape == (len(tax.ids),)
    save_fitted(tmp_path / "heads.npz", fitted)
    back = load_fitted(tmp_path / "heads.npz")
    assert back.arabic_thresholds is not None
    np.testing.assert_allclose(back.arabic_thresholds, fitted.arabic_thresholds)
    # Off (the default until measured): no second set.
    plain = fit_heads(tax, _BlindEncoder(), replace(options, calibrate_arabic=False), _rows())
    assert plain.arabic_thresholds is None


def test_arabic_thresholds_apply_to_arabic_text_only() -> None:
    tax = load_taxonomy()
    options = FlagOptions(cache=False, calibrate=False, language_shift=False, neighbour_words=False)
    fitted = fit_heads(tax, _BlindEncoder(), options, _rows())
    base = Flagger(tax, _BlindEncoder(), fitted, options)
    j = tax.ids.index("self_incrimination")
    strict = np.array(base.thresholds)
    strict[j] = 0.999
    flagger = Flagger(tax, _BlindEncoder(), replace(fitted, arabic_thresholds=strict), options)
    assert flagger.language_thresholds["ar"][j] == pytest.approx(0.999)
    text_ar, text_en = "حملت البنادق لهم", "I carried the rifles for them"
    [ar_base] = base.flag_texts([text_ar], language="ar")
    [ar] = flagger.flag_texts([text_ar], language="ar")
    assert "self_incrimination" in ar_base.labels and "self_incrimination" not in ar.labels
    [en_base] = base.flag_texts([text_en], language="en")
    [en] = flagger.flag_texts([text_en], language="en")
    assert en.labels == en_base.labels
