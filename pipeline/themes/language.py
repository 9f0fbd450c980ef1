"""A light offline language guess for interview sentences: the script first (Arabic, Cyrillic),
then counts of frequent function words for the Latin-script interview languages.

Measured on the issue-15 corpus (bench/RESULTS.md); anything it cannot tell is "en", the pivot.
"""

from __future__ import annotations

import re

LANGUAGES = ("en", "fr", "ar", "sq", "bs")
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and i was were they is are of to in it that he she we you my me them this there have had "
        "not but with for on at what so because when then would will did do don't".split()
    ),
    "fr": frozenset(
        "le la les et je j' était étaient ils elles est sont de des du un une dans que qui il nous vous "
        "mon ma mes pas ne c'est avec pour sur au aux ce cette on ont avait parce quand alors".split()
    ),
    "sq": frozenset(
        "dhe unë ishte ishin ata është janë të në një që me për nuk por se kur ku ne ju im ime "
        "atje kam kishte do jam isha ky kjo".split()
    ),
    "bs": frozenset(
        "i ja sam je su bio bila bili oni ona da u na se nije ali kad gdje mi vi moj moja to što "
        "smo ste sa za od iz tamo jer".split()
    ),
}


def detect_language(text: str) -> str:
    """One of LANGUAGES for `text` ("en" when nothing points elsewhere)."""
    letters = sum(ch.isalpha() for ch in text)
    if letters and len(_ARABIC.findall(text)) >= 0.3 * letters:
        return "ar"
    if letters and len(_CYRILLIC.findall(text)) >= 0.3 * letters:
        return "bs"
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    # French elisions ("j'ai", "c'était") count by their first part too.
    heads = [w.split("'")[0] + "'" for w in words if "'" in w]
    counts = {lang: sum(w in sw for w in words + heads) for lang, sw in STOPWORDS.items()}
    if re.search(r"[éèêàçùœ]", text, re.IGNORECASE):
        counts["fr"] += 1
    if re.search(r"[ëç]", text, re.IGNORECASE):
        counts["sq"] += 1
    if re.search(r"[čćšžđ]", text, re.IGNORECASE):
        counts["bs"] += 1
    best = max(counts, key=lambda k: (counts[k], k == "en"))
    return best if counts[best] > 0 else "en"
