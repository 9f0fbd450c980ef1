"""Words to hide, and the one rule that finds them in subtitle text and in timed speech.

`fold` is the single normaliser for registry terms (it replaces `render.redaction._norm`,
`render.timing._norm` for redaction purposes, and the case-fold in `authorisation._term_set`):
NFKC, case-fold, accents and other combining marks stripped, format characters (soft hyphen,
zero-width space/joiners, word joiner, BOM, Arabic tatweel) removed, full-width forms folded, and
common Cyrillic/Greek look-alikes of Latin letters mapped to the Latin letter.

`TermMatcher` finds terms in a stream of text in which "\n" marks a line or cue break (or the gap
between two transcribed words): a term matches whole words, with any mix of the above variants,
with whitespace, hyphens or invisible characters between its words, and split across a break
anywhere (even inside a word, as "Yu-" / "suf"). The same matcher serves subtitles and audio, so
what is bleeped and what is replaced in the text are found by the same rule.

What replaces a term (`redaction_terms`): the interviewee's own real names become the pseudonym;
every other identifying word becomes the replacement the registry sets for it
(`"Yusuf Darwish=his cousin"`), by default `PLACEHOLDER`; never the speaker's pseudonym (that
would point at the speaker and change the meaning). Long-enough parts of a multi-word term are
hidden on their own too ("Darwish" alone), with the same replacement.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pipeline.errors import CounterclipsError

# Neutral stand-in for an identifying word with no replacement of its own. Not "[name withheld]":
# identifying words are also places, units and dates.
PLACEHOLDER = "[withheld]"
MIN_PART_LENGTH = 3  # folded letters: shorter parts ("Al", "Bin") are not hidden on their own
INVISIBLE = "\x01"  # what a removed format character leaves in the folded stream
BREAK = "\n"  # line, cue or word break in a stream

# Removed outright beyond Unicode category Cf (soft hyphen, ZW space/joiners, U+2060, BOM are Cf).
_EXTRA_INVISIBLE = frozenset("\u0640\u034f\u115f\u1160\u3164\uffa0")  # tatweel, CGJ, fillers
# Look-alikes (after case-folding) that an attacker or an OCR-ed registry may use for Latin letters.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "σ": "s", "μ": "u",
    # Latin letters without a decomposition
    "ı": "i", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ß": "ss", "æ": "ae", "œ": "oe",
    "ŀ": "l", "ɡ": "g", "ɑ": "a",
}
_HYPHENS = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
# Between two letters of one word: invisibles, hyphens, and a break with spaces around it.
_INTRA = rf"[{INVISIBLE}{_HYPHENS}]*(?:[ \t{INVISIBLE}]*\n[ \t{INVISIBLE}{_HYPHENS}]*)?"
# Between two words of one term: any whitespace, invisibles, hyphens, underscores or dots.
_INTER = rf"[\s{INVISIBLE}{_HYPHENS}_.]*"


class TermError(CounterclipsError):
    """A registry term or its replacement cannot be used safely."""


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c == BREAK:
        return BREAK
    if c in _EXTRA_INVISIBLE or unicodedata.category(c) == "Cf":
        return INVISIBLE
    if unicodedata.combining(c):
        return ""
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", c).casefold())
    return "".join(_CONFUSABLES.get(x, x) for x in s if not unicodedata.combining(x))


def fold_with_map(text: str) -> tuple[str, tuple[int, ...]]:
    """The folded stream of `text` and, for each of its characters, the index in `text` it came
    from (so a match in the folded stream is a span of the original)."""
    out: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        for f in _fold_char(c):
            out.append(f)
            where.append(i)
    return "".join(out), tuple(where)


def fold(text: str) -> str:
    """The canonical form of a term: folded, invisibles removed, whitespace collapsed, outer
    punctuation dropped. Two spellings of one name fold to the same string."""
    folded = fold_with_map(text)[0].replace(INVISIBLE, "")
    return re.sub(r"^[\W_]+|[\W_]+$", "", " ".join(folded.split()))


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase to hide and what the audience reads in its place."""

    text: str
    replacement: str


@dataclass(frozen=True, slots=True)
class IdentifyingWord:
    """A registry entry: a word that identifies the speaker, and its own replacement
    ("" = `PLACEHOLDER`)."""

    term: str
    replacement: str = ""

    @classmethod
    def parse(cls, spec: str) -> IdentifyingWord:
        """`"Yusuf Darwish=his cousin"` -> term and replacement; `"Mosul"` -> no replacement."""
        term, sep, replacement = spec.partition("=")
        term, replacement = " ".join(term.split()), " ".join(replacement.split())
        if not fold(term):
            raise TermError("an identifying word cannot be empty")
        if sep and not replacement:
            raise TermError("an identifying word's replacement cannot be empty (omit '=')")
        return cls(term, replacement)

    def spec(self) -> str:
        return f"{self.term}={self.replacement}" if self.replacement else self.term


@dataclass(frozen=True, slots=True)
class Match:
    """A term found at `start:end` of the original text (character offsets)."""

    start: int
    end: int
    term: Term


def _parts(term: str) -> list[str]:
    return [p for p in re.split(rf"[\s{_HYPHENS}_]+", term) if len(fold(p)) >= MIN_PART_LENGTH]


def redaction_terms(real_names: Iterable[str], identifying_words: Iterable[IdentifyingWord],
                    pseudonym: str, shows_name: bool = False,
                    placeholder: str = PLACEHOLDER) -> tuple[Term, ...]:
    """Everything to hide with its replacement, longest first; real names (unless the consent
    lets the name be shown) win over an identifying word that folds to the same text.

    Raises TermError when a replacement is the pseudonym or would itself reveal a term."""
    pseudonym = " ".join(pseudonym.split())
    chosen: dict[str, Term] = {}
    names = () if shows_name else tuple(real_names)
    if names and not fold(pseudonym):
        raise TermError("real names need a pseudonym to put in their place")
    # Whole terms first, then parts, so a part never takes a whole term's place.
    wholes = [(n, pseudonym) for n in names] + [
        (w.term, w.replacement or placeholder) for w in identifying_words]
    for text, repl in [*wholes, *((p, r) for t, r in wholes for p in _parts(t))]:
        key = fold(text)
        if key and key not in chosen:
            chosen[key] = Term(" ".join(text.split()), repl)
    terms = tuple(sorted(chosen.values(), key=lambda t: (-len(fold(t.text)), fold(t.text))))
    matcher = TermMatcher(terms)
    if fold(pseudonym) and matcher.find(pseudonym):
        raise TermError("the pseudonym contains a word the registry hides")
    for t in terms:
        if t.replacement != pseudonym and fold(t.replacement) == fold(pseudonym):
            raise TermError("an identifying word's replacement cannot be the speaker's pseudonym")
        if matcher.find(t.replacement):
            raise TermError("a replacement would itself reveal a word it hides")
    return terms


def _pattern(term: str) -> str:
    words = [w for w in re.split(rf"[\s{_HYPHENS}_.]+", fold(term)) if w]
    return _INTER.join(_INTRA.join(re.escape(c) for c in w) for w in words)


class TermMatcher:
    """Finds `terms` in text (see the module docstring for what counts as a match)."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.terms = tuple(t for t in terms if fold(t.text))
        ordered = sorted(range(len(self.terms)), key=lambda i: -len(fold(self.terms[i].text)))
        alternatives = "|".join(f"(?P<t{i}>{_pattern(self.terms[i].text)})" for i in ordered)
        self._regex = re.compile(rf"(?<!\w)(?:{alternatives})s?(?!\w)") if alternatives else None

    def find(self, text: str) -> tuple[Match, ...]:
        """Non-overlapping matches in `text` (original offsets), earliest first."""
        if self._regex is None or not text:
            return ()
        folded, where = fold_with_map(text)
        out = []
        for m in self._regex.finditer(folded):
            if m.end() == m.start():
                continue
            term = self.terms[int(str(m.lastgroup)[1:])]
            end = where[m.end() - 1] + 1
            # Marks and invisibles folded away after the last letter belong to the match.
            while end < len(text) and not _fold_char(text[end]).strip(INVISIBLE):
                end += 1
            out.append(Match(where[m.start()], end, term))
        return tuple(out)


def variants_of(term: str) -> tuple[str, ...]:
    """Spellings of `term` an output scan looks for as raw bytes (the folded form, as typed,
    lower and upper case, with and without accents, spaces as _ - or nothing)."""
    base = {" ".join(term.split()), fold(term)}
    stripped = "".join(c for c in unicodedata.normalize("NFKD", term) if not unicodedata.combining(c))
    base |= {" ".join(stripped.split())}
    out: set[str] = set()
    for b in base:
        for cased in (b, b.lower(), b.upper(), b.title()):
            for sep in (" ", "_", "-", ""):
                out.add(cased.replace(" ", sep))
    return tuple(sorted(v for v in out if v))
