"""Phase-6 flagger changes: Arabic sentences need the speaker as the one acting for an admission
and the speaker at all for a plan to return (pipeline/themes/stance_ar.py). Each wording is
written for these tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.themes import Flagger
from pipeline.themes.scoring import FlagOptions
from pipeline.themes.stance_ar import speaker_acts, speaker_in
from tests.pipeline.themes_support import stance_score


@pytest.fixture(scope="module")
def probe() -> Flagger:
    return Flagger.cues_only(options=FlagOptions())


@pytest.mark.parametrize("text", [
    "نقلت السلاح إلى الجبهة في سيارتي، مرتين.",  # I moved the weapons (past verb of "I")
    "كنا نأخذ المال من أصحاب المحلات كل أسبوع.",  # we used to take (past verb of "we")
    "كنت أحرس الأسرى في المدرسة القديمة.",  # "كنت" starts with a letter that looks like a clitic
    "أنا الذي أعطيتهم العنوان.",
    "كان عملي أن أراقب الطريق للقناصين.",  # "my job"
    "يقول إنه كان يجمع الضرائب لهم في السوق.",  # the interpreter's third person
    "يقول المترجم: جمع الضرائب لهم في السوق سنة كاملة.",
])
def test_an_arabic_admission_keeps_the_speaker(text: str) -> None:
    assert speaker_acts(text)


@pytest.mark.parametrize("text", [
    "المال الذي جمعوه للأرامل اختفى في جيوب المسؤولين.",  # no speaker: the officials stole
    "الرجال في الحي حملوا السلاح لهم طوال الشتاء.",  # others carried the weapons
    "الآن أعمل في مطعم، الدوام طويل لكنه عمل حلال.",  # ordinary talk, no past deed
])
def test_an_arabic_sentence_without_the_speaker_acting(text: str) -> None:
    assert not speaker_acts(text)


def test_a_feminine_plural_and_they_did_to_us_are_not_the_speaker_acting() -> None:
    # "سيارات" ends in ت, "أوقفونا" in نا: neither is a verb of "I" or "we".
    assert not speaker_acts("الجنود أوقفونا عند الحاجز وفتشوا السيارات.")


def test_an_arabic_admission_is_damped_only_without_the_speaker(probe: Flagger) -> None:
    own = "هربت السلاح عبر الحدود لهم ثلاث مرات."
    others = "المهربون نقلوا السلاح عبر الحدود لهم ثلاث مرات."
    label = "self_incrimination"
    assert stance_score(probe, others, label, "ar") < stance_score(probe, own, label, "ar")


def test_an_arabic_plan_to_return_needs_the_speaker(probe: Flagger) -> None:
    own = "بعد خروجي من هنا سأرجع إلى الإخوة."
    others = "المقاتلون رجعوا إلى الجبال في الربيع."
    label = "intent_to_return"
    assert stance_score(probe, others, label, "ar") < stance_score(probe, own, label, "ar")
    assert speaker_in(own) and not speaker_in(others)


def test_without_the_option_arabic_is_read_as_before() -> None:
    old = Flagger.cues_only(options=FlagOptions(stance_ar=False))
    text = "المهربون نقلوا المال عبر الحدود لهم ثلاث مرات."
    assert stance_score(old, text, "self_incrimination", "ar") == pytest.approx(0.5)


def test_the_rule_is_for_arabic_only(probe: Flagger) -> None:
    # English is judged by its own rule; an English admission is never read by the Arabic one.
    text = "I drove the ammunition truck to the front."
    assert stance_score(probe, text, "self_incrimination", "en") == pytest.approx(0.5)


_ARABIC_WORD = st.text(alphabet=st.characters(min_codepoint=0x0621, max_codepoint=0x064A), min_size=1,
                       max_size=8)
_SENTENCE = st.lists(_ARABIC_WORD, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(_SENTENCE)
def test_acting_implies_present(text: str) -> None:
    assert not speaker_acts(text) or speaker_in(text)


@settings(max_examples=200, deadline=None)
@given(_SENTENCE, st.sampled_from(["أنا", "نحن", "قاتلت", "كنا"]))
def test_a_speaker_word_anywhere_makes_the_speaker_act(text: str, word: str) -> None:
    assert speaker_acts(f"{text} {word}") and speaker_acts(f"{word} {text}")


@settings(max_examples=200, deadline=None)
@given(_SENTENCE)
def test_vowel_marks_change_nothing(text: str) -> None:
    # Short vowels (fatha, damma, kasra, sukun) after every letter: the same reading.
    marked = "".join(c + ("\u064e" if "\u0621" <= c <= "\u064a" else "") for c in text)
    assert speaker_acts(marked) == speaker_acts(text)
    assert speaker_in(marked) == speaker_in(text)


def _gate_flags(
    options: FlagOptions, text: str, language: str, label: str, p: float = 0.2
) -> tuple[str, ...]:
    """Flags of `text` when only `label` has some classifier probability (`p`, below the 0.25 risk
    threshold) and the pooled any-risk classifier is sure (0.9)."""
    import numpy as np

    flagger = Flagger.cues_only(options=options)
    probs = np.full(len(flagger.labels), 0.01)
    probs[flagger.labels.index(label)] = p
    none = np.full(len(flagger.labels), -1)
    return flagger._combine_core(text, probs, none, np.zeros(len(none)), 0.9, language).labels


@pytest.mark.parametrize(("text", "language", "label"), [
    # Others acted; the speaker admits nothing (English, Arabic).
    ("The older boys in the unit searched the cars at the checkpoint.", "en", "self_incrimination"),
    ("الشباب الكبار في الوحدة فتشوا السيارات عند الحاجز.", "ar", "self_incrimination"),
    # A warning to someone else announces no return.
    ("Don't go back to those people, they will use you.", "en", "intent_to_return"),
])
def test_the_gate_does_not_raise_a_risk_a_stance_rule_ruled_out(text: str, language: str, label: str) -> None:
    assert label not in _gate_flags(FlagOptions(), text, language, label)
    # Before phase 6 the gate put it back.
    assert label in _gate_flags(FlagOptions(gate_stance=False), text, language, label)


def test_the_gate_still_raises_a_risk_no_rule_touched() -> None:
    text = "I searched the cars at the checkpoint for them."
    label = "self_incrimination"
    assert label in _gate_flags(FlagOptions(), text, "en", label)
    assert label not in _gate_flags(FlagOptions(risk_gate=None), text, "en", label)


@pytest.mark.parametrize(("text", "language"), [
    ("When they shot the doctors I told myself, this is not jihad, it is just killing.", "en"),
    ("Là j'ai compris, ce n'est pas le jihad, c'est juste du meurtre.", "fr"),
    ("قلت لزوجي: هذا ليس جهادا، هذا قتل لا أكثر.", "ar"),
    ("ما فعلوه بالقرية كان مجرد قتل.", "ar"),
])
def test_calling_it_mere_killing_damps_justification_and_advocacy(
    probe: Flagger, text: str, language: str
) -> None:
    assert stance_score(probe, text, "justifies_violence", language) < 0.5
    assert stance_score(probe, text, "pro_group_advocacy", language) < 0.5


def test_the_arabic_for_he_killed_is_not_a_condemnation(probe: Flagger) -> None:
    # "هو قتل الحارس" is "he killed the guard": the same letters as "it was killing", not a verdict.
    assert stance_score(probe, "هو قتل الحارس لأنه يستحق.", "justifies_violence", "ar") >= 0.5


@pytest.mark.parametrize(("text", "language"), [
    ("They put his photo on the wall as a martyr, but for me he was not a martyr, he was a boy.", "en"),
    ("My son died for nothing, for their flags.", "en"),
    ("Ils l'appellent martyr, mais il n'est pas un martyr, il est mort pour rien.", "fr"),
    ("يسمونه شهيدا، لكن أخي ليس شهيدا، مات من أجل لا شيء.", "ar"),
])
def test_a_refused_martyr_title_damps_martyrdom(probe: Flagger, text: str, language: str) -> None:
    assert stance_score(probe, text, "martyrdom_glorification", language) < stance_score(
        Flagger.cues_only(options=FlagOptions(refused_martyrdom=False)), text, "martyrdom_glorification",
        language)


@pytest.mark.parametrize(("text", "language"), [
    ("My brother is a martyr, he is in paradise now, I envy him.", "en"),
    ("أخي شهيد، هو في الجنة الآن.", "ar"),
])
def test_a_martyr_praised_is_not_damped(probe: Flagger, text: str, language: str) -> None:
    old = Flagger.cues_only(options=FlagOptions(refused_martyrdom=False))
    label = "martyrdom_glorification"
    assert stance_score(probe, text, label, language) == pytest.approx(
        stance_score(old, text, label, language))


@pytest.mark.parametrize(("text", "language"), [
    ("Everything they say on the news about the state, they said it, but it is lies, all lies.", "en"),
    ("كل ما يقولونه في التلفزيون عن الإخوة كذب، لكن الناس يصدقون.", "ar"),
])
def test_calling_the_media_liars_is_not_a_refuted_claim(probe: Flagger, text: str, language: str) -> None:
    label = "pro_group_advocacy"
    old = Flagger.cues_only(options=FlagOptions(media_claims=False))
    assert stance_score(old, text, label, language) < 0.5  # read as the group's claim, refuted
    assert stance_score(probe, text, label, language) >= 0.5


def test_a_refuted_claim_of_the_group_is_still_damped(probe: Flagger) -> None:
    text = "They said it was a state of justice, but it was a lie, there was only fear."
    assert stance_score(probe, text, "pro_group_advocacy", "en") < 0.5


@pytest.mark.parametrize(("text", "language"), [
    ("None of it was true.", "en"),
    ("It was all lies, the houses, the salaries.", "en"),
    ("Rien de tout ça n'était vrai.", "fr"),
    ("كان كل ذلك كذبا.", "ar"),
])
def test_a_refutation_said_on_its_own_is_not_advocacy(probe: Flagger, text: str, language: str) -> None:
    # The demo's "None of it was true." was flagged pro_group_advocacy after the phase-6 refit,
    # which kept its clip out of the candidates.
    assert stance_score(probe, text, "pro_group_advocacy", language) < 0.5


@pytest.mark.parametrize(("claim", "refuted"), [
    ("The media talk about the state.", "Everything the media says about the state is a lie."),
    ("The journalists wrote about the brothers.",
     "The journalists wrote about the brothers, none of it was true."),
])
def test_calling_the_medias_account_a_lie_is_not_a_refutation(
    probe: Flagger, claim: str, refuted: str
) -> None:
    label = "pro_group_advocacy"
    assert stance_score(probe, refuted, label) == pytest.approx(stance_score(probe, claim, label))


def test_the_flagger_reads_the_demos_refutation_as_a_false_promise_only() -> None:
    from flows.services.flagger_model import load_flagger

    (flags,) = load_flagger().flag_texts(["None of it was true."], language="en")
    assert "pro_group_advocacy" not in flags.labels
