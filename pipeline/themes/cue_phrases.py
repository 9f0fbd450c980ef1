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
        # sq
        "nuk", "s'", "kurrë", "kurre", "asnjëherë",
        # bs
        "nikad", "nikada", "nisam", "neću", "necu", "nije", "nemam",
    }
)  # fmt: skip
AFFIRMING = frozenset({("no", "doubt"), ("not", "only"), ("sans", "doute"), ("pa", "dyshim")})
UNBOUNDED_LANGUAGES = frozenset({"ar"})
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


class CueMatcher:
    """All cues of a taxonomy, compiled once, case-insensitive, on word boundaries."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        # One alternation per label and language: a few dozen scans per sentence, not hundreds.
        self._cues: list[tuple[str, str, re.Pattern[str]]] = []
        for entry in taxonomy.entries:
            for lang, patterns in entry.cues:
                if patterns:
                    joined = "|".join(f"(?:{p})" for p in patterns)
                    # Arabic glues prefixes and suffixes to the word (يذبح, والشهداء): no boundaries.
                    bounded = joined if lang in UNBOUNDED_LANGUAGES else rf"(?<!\w)(?:{joined})(?!\w)"
                    rx = re.compile(bounded, re.IGNORECASE | re.UNICODE)
                    self._cues.append((entry.id, lang, rx))

    def find(self, text: str) -> dict[str, list[CueHit]]:
        """Cue hits per label id, in taxonomy order."""
        hits: dict[str, list[CueHit]] = {}
        for label, lang, rx in self._cues:
            for m in rx.finditer(text):
                hit = CueHit(label, lang, m.group(0), is_negated(text, m.start()))
                hits.setdefault(label, []).append(hit)
        return hits


def is_negated(text: str, start: int) -> bool:
    """True when one of the few words before `start`, in the same clause, is a negation."""
    before = text[:start]
    clause = _CLAUSE_BREAK.split(before)[-1]
    words = [w.lower().replace("’", "'") for w in _TOKEN.findall(clause)][-NEGATION_WINDOW - 1 :]
    # "No doubt", "not only", "sans doute" affirm what follows.
    words = [w for i, w in enumerate(words) if (w, (words + [""])[i + 1]) not in AFFIRMING]
    words = [w for w in words if w not in {"doubt", "only", "doute"}][-NEGATION_WINDOW:]
    return any(w in NEGATORS or w.endswith("n't") for w in words)
