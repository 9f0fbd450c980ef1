"""Cue phrases with negation, name detection, translation attachment and credibility warnings.
All without a model (cue-only flagger), so they run in milliseconds."""

from __future__ import annotations

import pytest

from pipeline.records import Sentence
from pipeline.themes import (
    CredibilityWarning,
    Flagger,
    attach_targets,
    credibility_warnings,
    flag_sentences,
    risk_summary,
)
from pipeline.themes.cue_phrases import is_negated
from pipeline.themes.person_names import find_names


@pytest.fixture(scope="module")
def cue_flagger() -> Flagger:
    return Flagger.cues_only()


def s(index: int, start: float, end: float, text: str, language: str = "") -> Sentence:
    return Sentence(index=index, start=start, end=end, text=text, language=language)


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("I would never go back", True),
        ("I will not return", True),
        ("There is no doubt that life", False),
        ("I told them, and then I will go back", False),
        ("Je ne veux jamais retourner", True),
        ("Nuk do të kthehem", True),
    ],
)
def test_negation_looks_a_few_words_back_within_the_clause(text: str, negated: bool) -> None:
    last = text.split()[-1]
    assert is_negated(text, text.rindex(last)) is negated


def test_negated_return_is_not_intent_to_return(cue_flagger: Flagger) -> None:
    plain, negated = cue_flagger.flag_texts(
        ["After prison I want to go back and fight with them.", "I would never want to go back to them."]
    )
    assert "intent_to_return" in plain.labels
    assert "intent_to_return" not in negated.labels


def test_multilingual_cues_fire_on_original_text(cue_flagger: Flagger) -> None:
    fr, sq, bs, ar = cue_flagger.flag_texts(
        [
            "Ils ont décapité deux hommes devant nous.",
            "Mos shkoni atje, ju lutem.",
            "Vratiću se čim izađem iz zatvora.",
            "رأيتهم يذبح الأسرى في الساحة",
        ]
    )
    assert "witnessed_brutality" in fr.labels and "(fr)" in fr.why["witnessed_brutality"]
    assert "warning_to_others" in sq.labels
    assert "intent_to_return" in bs.labels
    assert "witnessed_brutality" in ar.labels


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Then I met Arben Morina and Fatos Hoxha at the station.", ["Arben Morina", "Fatos Hoxha"]),
        ("The judge was Abu Yahya al-Tunisi, a cruel man.", ["Abu Yahya al-Tunisi"]),
        ("A smuggler called Samir drove us.", ["Samir"]),
        ("We went from Turkey to Raqqa with the Islamic State fighters.", []),
        ("Abu Bakr al-Baghdadi gave a speech in Mosul.", []),
        ("Where did you grow up?", []),
    ],
)
def test_names_found_but_public_places_and_groups_ignored(text: str, names: list[str]) -> None:
    assert find_names(text, frozenset({"then", "where"})) == names


def test_name_gives_identifying_details_with_reason(cue_flagger: Flagger) -> None:
    [flags] = cue_flagger.flag_texts(["My recruiter was Besim Rexhepi, he still lives there."])
    assert flags.labels == ("identifying_details",)
    assert flags.why["identifying_details"] == 'name found: "Besim Rexhepi"'


def test_translated_sentence_attaches_by_maximum_overlap_and_spans() -> None:
    originals = [s(0, 0.0, 4.0, "a"), s(1, 4.0, 9.0, "b"), s(2, 9.0, 12.0, "c")]
    assert attach_targets(s(0, 0.2, 3.9, "x"), originals) == [0]
    assert attach_targets(s(0, 4.5, 8.0, "x"), originals) == [1]
    # Spans the end of 1 and all of 2: both.
    assert attach_targets(s(0, 7.0, 12.0, "x"), originals) == [1, 2]
    # A sliver of overlap with 0 does not attach there.
    assert attach_targets(s(0, 3.8, 8.8, "x"), originals) == [1]
    # No overlap at all (timing drift): the nearest original.
    assert attach_targets(s(0, 12.5, 13.0, "x"), originals) == [2]


def test_flags_from_translation_land_on_the_right_original_sentences(cue_flagger: Flagger) -> None:
    originals = [
        s(0, 0.0, 3.0, "Quand j'étais enfant, nous vivions à la campagne.", "fr"),
        s(1, 3.0, 7.5, "Ils ont pris les femmes yézidies et les ont vendues.", "fr"),
        s(2, 7.5, 11.0, "Après ma libération, j'y retournerai.", "fr"),
        s(3, 11.0, 14.0, "Il faisait froid cet hiver-là.", "fr"),
    ]
    english = [
        s(0, 0.1, 2.9, "When I was a child we lived in the countryside.", "en"),
        s(1, 3.1, 7.4, "They took the Yazidi women as slaves and sold them.", "en"),
        s(2, 7.6, 13.9, "After my release I will go back to them. It was cold that winter.", "en"),
    ]
    flags = flag_sentences(originals, cue_flagger, translated=english)
    assert [f.text for f in flags] == [o.text for o in originals]
    assert flags[0].labels == ()
    assert flags[1].labels == ("witnessed_brutality",)
    assert flags[1].why["witnessed_brutality"].startswith('translation "They took the Yazidi women')
    # The third English sentence spans originals 2 and 3: it attaches to both.
    assert "intent_to_return" in flags[2].labels and "intent_to_return" in flags[3].labels


def test_credibility_warnings_quote_every_risky_sentence_of_the_interview(cue_flagger: Flagger) -> None:
    interview = [
        s(0, 0.0, 4.0, "I grew up in a small town near the coast."),
        s(1, 4.0, 9.0, "They promised me a salary and a house, and it was all lies."),
        s(2, 65.0, 70.0, "Honestly, life in the caliphate was better than here."),
        s(3, 70.0, 74.0, "I carried a rifle at the checkpoints."),
    ]
    flags = cue_flagger.flag_texts([x.text for x in interview])
    warnings = credibility_warnings(interview, flags)
    assert warnings == (
        CredibilityWarning("pro_group_advocacy", 2, 65.0, 70.0, interview[2].text, ("pro_group_advocacy",)),
    )
    assert warnings[0].message.startswith("pro group advocacy at 1:05:")
    # Self-incrimination is a risk for the clip, not for the speaker's credibility.
    summary = risk_summary(flags)
    assert summary["pro_group_advocacy"] == 1 and summary["self_incrimination"] == 1
    with pytest.raises(ValueError):
        credibility_warnings(interview, flags[:2])


def test_first_chance_is_a_return_only_when_it_leads_back(cue_flagger: Flagger) -> None:
    leave, back = cue_flagger.flag_texts(
        [
            "I made up my mind to run away at the first opportunity.",
            "At the first chance I get, I will go back to the brothers.",
        ]
    )
    assert "intent_to_return" not in leave.labels
    assert "intent_to_return" in back.labels
