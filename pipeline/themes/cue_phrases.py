"""Cue phrases from the taxonomy, matched with awareness of a preceding negation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.themes.taxonomy import Taxonomy

# Words that negate what follows in the same clause ("I would never go back"), per language.
NEGATORS = frozenset(
    {
        # en
        "not", "never", "no", "nor", "cannot", "don't", "won't", "wouldn't", "didn't", "can't",
        "doesn't", "isn't", "wasn't", "weren't", "aren't", "shouldn't", "couldn't", "hardly",
        # fr
        "ne", "n'", "jamais", "pas", "aucun", "aucune",
        # ar
        "لا", "لن", "لم", "ما", "ليس", "أبدا",
        # spoken Arabic: Levantine and Egyptian "مش", Iraqi and Levantine "مو", Gulf "مب", Iraqi
        # "ماكو" (there is no), "مافي"; Egyptian wraps the verb in ما...ش (is_negated)
        "مش", "موش", "ميش", "مو", "مب", "ماكو", "مافي", "ماني", "مانو",
        # sq
        "nuk", "s'", "kurrë", "kurre", "asnjëherë",
        # bs
        "nikad", "nikada", "nisam", "neću", "necu", "nije", "nemam",
    }
)  # fmt: skip
AFFIRMING = frozenset({("no", "doubt"), ("not", "only"), ("sans", "doute"), ("pa", "dyshim")})
# Arabic glues clitics to the word ("والشهداء" = "and the martyrs"): a cue is matched on tokens
# with leading clitics (و ف ب ل ك ال) stripped and may carry a pronoun or plural suffix, but it
# must start a token, so "ندم" (regret) no longer matches inside "عندما" (when).
CLITIC_LANGUAGES = frozenset({"ar"})
# Spoken Arabic also glues "على ال" as "عال" (عالجبهة, to the front).
_AR_PREFIX = re.compile(r"^(?:[وف])?(?:عال(?=\w{2})|[بلك]?(?:ال)?(?=\w{2}))")
_AR_SUFFIX = r"(?:ه|ها|هم|هن|هما|وا|ون|ين|ات|ة|ي|ك|كم|نا|وه|وها|وهم|تم|ت)?"
# Present/future tense prefixes: يذبحون (they slaughter); spoken Arabic adds ب (بيرجع, he goes
# back), ح and ه for the future (حرجع, هرجع: I will go back) and writes أ as ا (ارجع).
_AR_VERB_PREFIX = r"(?:[سبحه]?[يتنأا]|[بحه])?"
_AR_TOKEN = re.compile(r"[\u0600-\u06FF]+|[^\s\u0600-\u06FF]+")
NEGATION_WINDOW = 4  # words before a cue inside its clause that may negate it
_CLAUSE_BREAK = re.compile(r"[,;:.!?؟،()\"“”]| but | mais | ali | lakin ", re.IGNORECASE)
_TOKEN = re.compile(r"[\w’']+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class CueHit:
    """One cue that matched: `matched` is the text it matched; `negated` if a negation precedes it."""

    label: str
    language: str
    matched: str
    negated: bool
    precise: bool = False  # a precise cue raises its flag alone


class CueMatcher:
    """All cues of a taxonomy, compiled once, case-insensitive, on word boundaries."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        # One alternation per label and language: a few dozen scans per sentence, not hundreds.
        self._cues: list[tuple[str, str, re.Pattern[str], bool]] = []
        for entry in taxonomy.entries:
            for precise, groups in ((False, entry.cues), (True, entry.precise_cues)):
                for lang, patterns in groups:
                    if patterns:
                        joined = "|".join(f"(?:{p})" for p in patterns)
                        arabic = lang in CLITIC_LANGUAGES
                        prefix, suffix = (_AR_VERB_PREFIX, _AR_SUFFIX) if arabic else ("", "")
                        bounded = rf"(?<!\w){prefix}(?:{joined}){suffix}(?!\w)"
                        rx = re.compile(bounded, re.IGNORECASE | re.UNICODE)
                        self._cues.append((entry.id, lang, rx, precise))

    def find(self, text: str, language: str | None = None) -> dict[str, list[CueHit]]:
        """Cue hits per label id, in taxonomy order: only the cues of `language` when given (an
        English cue such as "rejoin" must not fire in French "rejoint"), else every language's."""
        hits: dict[str, list[CueHit]] = {}
        stripped: str | None = None
        for label, lang, rx, precise in self._cues:
            if language is not None and lang != language:
                continue
            targets = [text]
            if lang in CLITIC_LANGUAGES:
                # Both readings: "وصلنا" (we arrived) starts with a root letter, not a clitic.
                stripped = stripped if stripped is not None else strip_clitics(text)
                targets.append(stripped)
            seen: set[str] = set()
            for target in targets:
                for m in rx.finditer(target):
                    if m.group(0) in seen:
                        continue
                    seen.add(m.group(0))
                    hit = CueHit(label, lang, m.group(0), is_negated(target, m.start()), precise)
                    hits.setdefault(label, []).append(hit)
        return hits


def strip_clitics(text: str) -> str:
    """`text` with the leading clitics of every Arabic token removed (other tokens unchanged)."""
    parts = _split_keep(text)
    return "".join(_AR_PREFIX.sub("", tok) if "\u0600" <= tok[0] <= "\u06FF" else tok for tok in parts)


def _split_keep(text: str) -> list[str]:
    # Tokens and the gaps between them, so the stripped text keeps its punctuation and spacing.
    out: list[str] = []
    last = 0
    for m in _AR_TOKEN.finditer(text):
        out.append(text[last : m.start()])
        out.append(m.group(0))
        last = m.end()
    out.append(text[last:])
    return [t for t in out if t]


# Egyptian negation wraps the verb: ماتصدقوش, مارحتش (don't believe, I didn't go).
_EGYPTIAN_NEGATED = re.compile(r"^ما[\u0600-\u06FF]{2,}ش$")


_MA_CONJUNCTIONS = frozenset({"أول", "اول", "بعد", "قبل", "متل", "مثل", "زي", "كل", "لحد", "طول"})


def is_negated(text: str, start: int) -> bool:
    """True when one of the few words before `start`, in the same clause, is a negation."""
    before = text[:start]
    clause = _CLAUSE_BREAK.split(before)[-1]
    words = [w.lower().replace("’", "'") for w in _TOKEN.findall(clause)][-NEGATION_WINDOW - 1 :]
    # "No doubt", "not only", "sans doute" affirm what follows.
    words = [w for i, w in enumerate(words) if (w, (words + [""])[i + 1]) not in AFFIRMING]
    words = [w for w in words if w not in {"doubt", "only", "doute"}]
    # Arabic "ما" after these is a conjunction, not "not": "أول ما" (as soon as), "بعد ما" (after),
    # "قبل ما" (before), "متل ما"/"زي ما" (like), "كل ما" (whenever), very common when spoken.
    words = [w for i, w in enumerate(words) if not (w == "ما" and i and words[i - 1] in _MA_CONJUNCTIONS)]
    words = words[-NEGATION_WINDOW:]
    return any(w in NEGATORS or w.endswith("n't") or _EGYPTIAN_NEGATED.match(w) for w in words)
