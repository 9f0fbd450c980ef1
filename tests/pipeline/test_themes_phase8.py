"""Phase-8 flagger changes (issue 15): nationalities, articles and aid agencies are not personal
names; spoken Arabic (Levantine, Iraqi, Egyptian) negations, clitics and future markers, and
spoken Arabic rewritten towards the standard before it is embedded. Each
wording is written for these tests."""

from __future__ import annotations

import pytest

from pipeline.themes import Flagger
from pipeline.themes.cue_phrases import CueMatcher, is_negated, strip_clitics
from pipeline.themes.dialect_ar import to_standard
from pipeline.themes.multilingual import MultilingualEncoder
from pipeline.themes.person_names import find_names
from pipeline.themes.scoring import FlagOptions
from pipeline.themes.stance_ar import speaker_in
from pipeline.themes.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def cues() -> CueMatcher:
    return CueMatcher(load_taxonomy())


@pytest.mark.parametrize("text", [
    "A Moroccan who worked in the kitchen told us the bread was finished.",
    "One Uzbek in our house never spoke to anybody.",
    "Un Algérien du camp nous a prêté une couverture.",
    "The Red Crescent came twice with blankets and milk for the babies.",
    "La Croix-Rouge nous a donné des nouvelles de ma mère.",
])
def test_a_nationality_an_article_or_an_aid_agency_is_not_a_name(text: str) -> None:
    assert find_names(text) == []


@pytest.mark.parametrize(("text", "name"), [
    ("A man called Tarek Mansouri drove us to the border.", "Tarek Mansouri"),
    ("The Tunisian brother was Walid Gharbi, he ran the guesthouse.", "Walid Gharbi"),
])
def test_real_names_next_to_a_nationality_are_still_found(text: str, name: str) -> None:
    assert name in find_names(text)


def test_a_sentence_with_only_a_nationality_is_not_flagged_as_identifying() -> None:
    probe = Flagger.cues_only(options=FlagOptions())
    flags = probe.flag_texts(["A Libyan who lived upstairs had a small radio."], language="en")[0]
    assert "identifying_details" not in flags.labels


@pytest.mark.parametrize(("text", "cue", "negated"), [
    ("أنا مش رح ارجع لعندهم", "ارجع", True),  # Levantine / Egyptian "not"
    ("هسه آني مو راح أرجع للإخوة", "أرجع", True),  # Iraqi "not"
    ("ماكو شي يرجعني للجماعة", "يرجعني", True),  # Iraqi "there is nothing"
    ("أنا رح ارجع لعندهم", "ارجع", False),
])
def test_spoken_arabic_negation_is_read(text: str, cue: str, negated: bool) -> None:
    assert is_negated(text, text.rindex(cue)) is negated


@pytest.mark.parametrize("text", [
    "أول ما يطلعوني رح ارجع لعندهم",  # as soon as they let me out
    "بعد ما تخلص المحكمة رح ارجع لعندهم",  # after the trial ends
])
def test_arabic_ma_as_a_conjunction_does_not_negate(text: str) -> None:
    assert not is_negated(text, text.rindex("ارجع"))


def test_egyptian_circumfix_negation_negates_a_following_cue() -> None:
    text = "ماقدرتش أقول إني هرجع للمجاهدين"
    assert is_negated(text, text.index("هرجع"))


@pytest.mark.parametrize("text", [
    "رح ارجع لعندهم أول ما تخلص المحكمة",  # Levantine: I will go back to them
    "أول ما يطلعوني راح أرجع للإخوة",  # Iraqi
    "أنا هرجع للمجاهدين لو فتحوا الطريق",  # Egyptian
    "بدّي ارجع لعندهم، هونيك عيلتي",  # Levantine: I want to go back to them
])
def test_a_plan_to_return_in_spoken_arabic_is_a_cue(cues: CueMatcher, text: str) -> None:
    hits = [h for h in cues.find(text, "ar").get("intent_to_return", []) if not h.negated]
    assert hits


@pytest.mark.parametrize("text", [
    "ما رح ارجع لعندهم، خلصت",  # I will not go back to them
    "أنا مش هرجع للمجاهدين تاني",  # Egyptian: I will not go back
    "رح ارجع عالبيت بعد الشغل",  # I will go back home after work
])
def test_a_refused_or_harmless_return_in_spoken_arabic_is_no_cue(cues: CueMatcher, text: str) -> None:
    hits = [h for h in cues.find(text, "ar").get("intent_to_return", []) if not h.negated]
    assert not hits


def test_spoken_arabic_ala_al_is_stripped_like_a_clitic() -> None:
    # "عالجبهة" = "على الجبهة" (to the front): the token reads "جبهة", never a shorter stem.
    assert strip_clitics("راح عالجبهة") == "راح جبهة"
    assert strip_clitics("عالم") == "عالم"  # "world": nothing left to strip to


@pytest.mark.parametrize(("text", "speaker"), [
    ("رح ارجع لعندهم", True),  # I will go back
    ("راح نرجع للإخوة", True),  # we will go back
    ("آني چنت بالمكتب", True),  # Iraqi "I"
    ("رح يرجعوا عالضيعة بالصيف", False),  # they will go back to the village
])
def test_spoken_arabic_future_and_pronouns_mark_the_speaker(text: str, speaker: bool) -> None:
    assert speaker_in(text) is speaker


@pytest.mark.parametrize(("spoken", "standard"), [
    ("هلّق بدّي ارجع لعندهم، هنن كانوا عيلتي", "الآن أريد ارجع إليهم، هم كانوا عائلتي"),  # Levantine
    ("بالمحكمة گلت آني چنت طبّاخ", "بالمحكمة قلت أنا كنت طباخ"),  # Iraqi letters and "I"
    ("دلوقتي عايز أقول كده", "الآن أريد أقول هكذا"),  # Egyptian
    ("رح يرجعوا عالضيعة", "سيرجعوا عالضيعة"),  # future
    ("وهيك، شو بدك؟", "وهكذا، ماذا تريد؟"),  # a leading و kept, punctuation kept
    ("أنا عم استنى", "أنا استنى"),  # the progressive dropped
])
def test_spoken_arabic_is_rewritten_towards_the_standard(spoken: str, standard: str) -> None:
    assert to_standard(spoken) == standard


@pytest.mark.parametrize("text", [
    "كانت الدولة دولة حقيقية، لها محاكم ومدارس.",  # Modern Standard Arabic
    "راح عالجبهة وما رجع",  # "he went to the front": not a future
    "ابن عم يوسف ساكن بحلب",  # "cousin": not the progressive
    "الدول العربية سكتت",  # "countries", not "these"
    "I will go back to them one day.",
])
def test_standard_arabic_and_look_alikes_are_left_alone(text: str) -> None:
    assert to_standard(text) == text


def test_spoken_arabic_lands_nearer_its_english_after_the_rewrite() -> None:
    # Written for this test (Levantine, Iraqi, Egyptian) with their English.
    pairs = [
        ("هلّق بدّي ارجع لعندهم، هونيك كانت عيلتي الحقيقية",
         "Now I want to go back to them, over there was my real family."),
        ("شو بدك إحكيلك، كتير زلم ماتوا هونيك ومحدش سأل عليهن",
         "What can I tell you, many men died there and nobody asked about them."),
        ("دلوقتي عايز أقول للشباب: ماتصدقوش الكلام ده",
         "Now I want to say to the young people: don't believe these words."),
    ]
    rewritten = MultilingualEncoder.load(dialect=True)
    raw = MultilingualEncoder(rewritten._model, rewritten.model_dir, dialect=False)
    assert rewritten.key != raw.key  # the heads fitted on one are never used with the other
    for spoken, english in pairs:
        en = raw.encode([english])[0]
        assert float(rewritten.encode([spoken])[0] @ en) > float(raw.encode([spoken])[0] @ en) + 0.1
