"""Arabic stance marks (issue 15, phase 6): is the speaker the one acting, or planning?

The English and French rules (scoring.FIRST_PERSON, FIRST_PERSON_FR) damp an admission or a plan
to return in a sentence without the speaker in it. Arabic marks the person on the verb, so it is
read on tokens (marks removed, leading clitics و ف ب ل ك ال stripped, never inside another word):

- the speaker acting: "أنا", "نحن"; a past verb of "I" or "we" (قاتلت, كنت, ساعدتهم, زرعنا, كنا);
  "عملي" (my job); the interpreter's third person ("يقول إنه", "يعترف بأنه");
- the speaker planning: all of the above, or a present/future verb of "I" (أرجع, سأعود, سنرجع), a
  possessive or object "my"/"me" (خطتي, مكاني, ينتظرني).

A past verb of "I" looks like one of "she" (قتلت) and a noun may end like a verb: the reading errs
towards finding the speaker, so a real admission is not damped; only a sentence with no mark of
the speaker at all ("the money for the widows vanished into the office's pockets") is.
"""

from __future__ import annotations

import re

from pipeline.themes.cue_phrases import strip_clitics

_MARKS = re.compile(r"[\u064B-\u0652\u0670\u0640]")
_TOKEN = re.compile(r"[\u0600-\u06FF]+")
# "معي", "عندي", "بيدي": a weapon "with me", "in my hand" (جعلوني أقف حارسا ومعي بندقية).
_SPEAKER_WORDS = frozenset({
    "أنا", "انا", "نحن", "احنا", "إحنا", "عملي", "وظيفتي", "مهمتي", "دوري", "شغلي", "معي", "عندي", "بيدي",
    # spoken Arabic: Iraqi "آني" (I), "إني" (that I), Levantine "نحنا", "معي"/"معاي" (with me)
    "آني", "اني", "إني", "نحنا", "معاي", "ويايا",
})  # fmt: skip
# Spoken Arabic's future and wish: "رح ارجع", "راح أرجع", "ح نرجع" (I / we will go back), "بدي"
# and "بدنا" (I / we want) already end like "my"/"we". A plan of "I" or "we" follows the particle.
_PLANS = re.compile(r"(?<![\u0600-\u06FF])(?:رح|راح|ح|ناوي|ناوية|ناويين)\s+[اأإن][\u0600-\u06FF]{2,}")
# Common words that end like a past verb of "I" (ت) or "we" (نا) but are not one.
_NOT_VERB = frozenset({
    "كانت", "بيت", "وقت", "صوت", "موت", "تحت", "بنت", "أخت", "اخت", "ميت", "ست", "سبت", "زيت", "بيروت",
    "الكويت", "كويت", "إنترنت", "انترنت", "ليست", "ثابت", "مات", "ماتت", "هنا", "لنا", "علينا", "عندنا",
    "معنا", "منا", "عنا", "بنا", "إلينا", "الينا", "لدينا", "أنت", "انت", "هيهات", "طاغوت", "تابوت", "سكوت",
})  # fmt: skip
# Words ending in ي that carry no "my"/"me".
_NOT_MINE = frozenset({"في", "الذي", "التي", "اللي", "كي", "لكي", "أي", "اي", "يعني", "حتى", "الى", "علي"})
# The interpreter reporting the speaker: "يقول إنه كان يحرس", "تعترف بأنها", "يقول المترجم".
_INTERPRETED = re.compile(
    r"(?:يقول|تقول|قال|قالت|يعترف|تعترف|اعترف|اعترفت|يحكي|تحكي|يشرح|تشرح|يضيف|تضيف)\s+"
    r"(?:ب?[أإا]ن|إن|ان)(?:ه|ها)(?!\w)|(?:يقول|تقول) (?:المترجم|المترجمة)|(?:المترجم|المترجمة) (?:يقول|تقول)"
)


def _tokens(text: str) -> list[str]:
    # Each token as written and with its leading clitics stripped: "كنت" (I was) starts with a
    # root letter that looks like the clitic ك.
    plain = _MARKS.sub("", text)
    return _TOKEN.findall(plain) + _TOKEN.findall(strip_clitics(plain))


def _acts(token: str) -> bool:
    if token in _SPEAKER_WORDS:
        return True
    if token in _NOT_VERB or len(token) < 3:
        return False
    # A past verb of "I" (قاتلت) or "we" (زرعنا), perhaps with an object (ساعدتهم); a feminine
    # plural noun (سيارات) and "they ... us" (تركونا) are not.
    if re.search(r"ت(?:ه|ها|هم|هن|ك|كم|ني)?$", token) and not token.endswith("ات"):
        return True
    return token.endswith("نا") and not token.endswith("ونا")


def speaker_acts(text: str) -> bool:
    """The Arabic sentence has the speaker (or the interpreted speaker) as the one acting."""
    return bool(_INTERPRETED.search(_MARKS.sub("", text))) or any(_acts(t) for t in _tokens(text))


def speaker_in(text: str) -> bool:
    """The Arabic sentence mentions the speaker at all: acting, planning ("سأعود", "أرجع") or as
    "my"/"me" ("خطتي", "ينتظرني")."""
    if speaker_acts(text) or _PLANS.search(_MARKS.sub("", text)):
        return True
    for token in _tokens(text):
        if len(token) >= 3 and (token.startswith(("أ", "سأ", "سن")) or token.endswith("ني")):
            return True
        if len(token) >= 3 and token.endswith("ي") and token not in _NOT_MINE:
            return True
    return False
