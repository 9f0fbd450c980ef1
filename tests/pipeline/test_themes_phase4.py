"""Phase-4 flagger changes: word features beside the embedding, identifying details other than
names, the interpreter's third-person voice, condemnations by name, Arabic admission cues. Each
wording is written for these tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.themes import Flagger, scoring
from pipeline.themes.cue_phrases import CueMatcher
from pipeline.themes.lexical import Lexicon, tokens
from pipeline.themes.person_names import find_details
from pipeline.themes.scoring import FlagOptions, LabelledText, fit_heads, load_fitted, save_fitted
from pipeline.themes.taxonomy import load_taxonomy
from tests.pipeline.themes_support import real_flagger, stance_score


@pytest.fixture(scope="module")
def probe() -> Flagger:
    return Flagger.cues_only(options=FlagOptions())


score = stance_score


# Word features


def test_tokens_are_words_and_word_pairs() -> None:
    assert tokens("I drove the Truck") == ["i", "drove", "the", "truck", "i drove", "drove the", "the truck"]


def test_arabic_tokens_are_normalised_and_stemmed() -> None:
    # Hamza on alif, ta marbuta and the article vanish: "الأموال" and "اموال" are one feature.
    assert tokens("أخذنا الأموال") == tokens("اخذنا اموال")
    assert "رقه" in tokens("في الرقة")
    assert "عندما" in tokens("عندما وصلنا")  # "when" keeps its first letters: no clitic inside a word


def test_lexicon_keeps_shared_words_and_scales_rows_to_unit_length() -> None:
    lex = Lexicon.fit(["I drove the truck.", "They drove us home.", "A lone word."])
    assert "drove" in lex.vocab and "truck" not in lex.vocab  # seen once: not kept
    rows = lex.transform(["we drove", "nothing here matches"])
    assert np.linalg.norm(rows[0]) == pytest.approx(1.0)
    assert not rows[1].any()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_lexicon_rows_are_finite_and_unit_or_empty(texts: list[str]) -> None:
    lex = Lexicon.fit(["the man drove", "the man walked", *texts])
    norms = np.linalg.norm(lex.transform(texts), axis=1)
    assert np.all(np.isfinite(norms))
    assert np.all((np.abs(norms - 1.0) < 1e-5) | (norms == 0.0))


class _BlindEncoder:
    """Every sentence gets the same vector: only word features can tell sentences apart."""

    key = "blind"
    backend = "test"
    model_dir = Path("/nonexistent")  # no vocabulary of common words

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def _rows() -> list[LabelledText]:
    deeds = ["I drove the truck to the front", "I carried the rifles for them", "I guarded the prisoners",
             "I collected the money for them", "I drove the fighters every day"]
    undergone = ["they drove us to the camp", "they carried us to the prison", "they guarded us at night",
                 "they collected our phones", "they drove us every day"]
    rows = [LabelledText(t, "en", ("self_incrimination",), (), f"d{i}") for i, t in enumerate(deeds * 30)]
    rows += [LabelledText(t, "en", (), (), f"u{i}") for i, t in enumerate(undergone * 30)]
    return rows


def test_word_features_tell_the_doer_from_the_done_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tax = load_taxonomy()
    options = FlagOptions(cache=False, calibrate=False, language_shift=False)
    fitted = fit_heads(tax, _BlindEncoder(), options, _rows())  # type: ignore[arg-type]
    assert fitted.lexicon_vocab is not None
    flagger = Flagger(tax, _BlindEncoder(), fitted, options)  # type: ignore[arg-type]
    doer, done_to = flagger.flag_texts(["I drove the rifles", "they drove us"], language="en")
    assert doer.scores["self_incrimination"] > done_to.scores["self_incrimination"]
    # The word features travel with the heads.
    save_fitted(tmp_path / "heads.npz", fitted)
    again = Flagger(tax, _BlindEncoder(), load_fitted(tmp_path / "heads.npz"), options)  # type: ignore[arg-type]
    [same] = again.flag_texts(["I drove the rifles"], language="en")
    assert same.scores["self_incrimination"] == pytest.approx(doer.scores["self_incrimination"])
    # Without enough rows the heads read the embedding alone (few exemplars: words overfit).
    monkeypatch.setattr(scoring, "LEXICAL_MIN_ROWS", 10_000)
    plain = fit_heads(tax, _BlindEncoder(), replace(options), _rows())  # type: ignore[arg-type]
    assert plain.lexicon_vocab is None


# Identifying details other than names


@pytest.mark.parametrize(
    "text",
    [
        "You can call his brother, the number is plus 33 6 12 45 78 90.",
        "My card number at their office was 20931.",
        "The recruiter lived on Rue des Tanneurs, near the station.",
        "Their shop is on Al-Wahda Street, the second one.",
        "يسكن أخوه في شارع الجلاء قرب الجامع.",
        "كانت خيمتنا رقم سبعة في القسم الثاني.",
        "Nous habitions au numéro 27, près de la gare.",
    ],
)
def test_phone_card_numbers_and_streets_are_identifying(text: str) -> None:
    assert find_details(text)


@pytest.mark.parametrize(
    "text",
    [
        "We stayed in Gaziantep in 2015 and paid 1500 dollars.",
        "The number of women in the house was 40.",
        "We walked in the street for hours.",
        "كنا نمشي في الشارع لساعات.",
        "I showed my passport at the border in 2014.",
    ],
)
def test_years_amounts_and_plain_streets_are_not(text: str) -> None:
    assert not find_details(text)


@pytest.mark.slow
def test_a_phone_number_raises_identifying_details_with_its_reason() -> None:
    [f] = real_flagger().flag_texts(["If you want, his number is 0049 170 554 3321, he still answers."])
    assert "identifying_details" in f.labels
    assert "identifying detail found" in f.why["identifying_details"]


# The interpreter's voice, condemnations by name


def test_interpreted_admission_keeps_its_score(probe: Flagger) -> None:
    reported = score(probe, "He says he was in their police for a year and searched the houses.",
                     "self_incrimination")
    other = score(probe, "He was in their police for a year and searched the houses.", "self_incrimination")
    assert reported > other


@pytest.mark.parametrize(
    "text",
    [
        "What happened at the market was a massacre, those people were innocent.",
        "I condemn the attack on the church, all of it.",
    ],
)
def test_calling_an_attack_a_crime_weighs_less_as_justification(probe: Flagger, text: str) -> None:
    assert score(probe, text, "justifies_violence") < 0.5


def test_denying_it_is_a_crime_is_no_condemnation(probe: Flagger) -> None:
    assert score(probe, "Shooting the guards is not a crime, it is what they deserve.",
                 "justifies_violence") == pytest.approx(0.5)


# Arabic admissions


def test_arabic_admission_cues_match_deeds_not_programmes() -> None:
    cues = CueMatcher(load_taxonomy())
    assert "self_incrimination" in cues.find("وشاركنا في المعركة الأخيرة قرب النهر.", "ar")
    assert "self_incrimination" not in cues.find("شاركت في دورة لتعلم الخياطة.", "ar")


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to go back to that place, not for a visit, not ever.",
        "Je ne veux plus y retourner, c'est fini pour moi.",
        "لن أعود إليهم مهما حدث.",
    ],
)
def test_refusing_to_go_back_weighs_less_as_intent_to_return(probe: Flagger, text: str) -> None:
    language = "ar" if "لن" in text else "fr" if "Je " in text else "en"
    assert score(probe, text, "intent_to_return", language) < 0.5


def test_a_wish_to_go_back_keeps_its_score(probe: Flagger) -> None:
    assert score(probe, "When they let me out I want to go back to the brothers.", "intent_to_return") >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "I was born in a village by the sea and we moved when I was ten.",
        "I studied chemistry for two years, then I left the university.",
    ],
)
def test_life_events_are_no_admission(probe: Flagger, text: str) -> None:
    assert score(probe, text, "self_incrimination") < 0.1


def test_calling_the_attacks_terrible_is_no_justification(probe: Flagger) -> None:
    text = "The bombings in the city were horrible, I could not sleep."
    assert score(probe, text, "justifies_violence") < 0.5


def test_neighbour_words_lend_the_nearest_english_words_but_never_the_excluded() -> None:
    from pipeline.themes.lexical import NeighbourWords

    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    words = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    lender = NeighbourWords.build(vectors, words, k=1, weight=0.5)
    own = np.array([[0.0, 1.0, 0.0]], dtype=np.float32)
    near_first = np.array([[0.9, 0.1]], dtype=np.float32)
    assert lender.lend(own, near_first).tolist() == [[0.5, 1.0, 0.0]]
    # A training translation may not borrow from its own original.
    assert lender.lend(own, near_first, [{0}]).tolist() == [[0.0, 1.0, 0.5]]
    assert lender.lend(own[:0], near_first[:0]).shape == (0, 3)
