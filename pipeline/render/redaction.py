"""Identity redaction: real names and listed identifying words become the pseudonym in text and a
bleep in the audio over their word timestamps.

Pure functions over words and strings; times are float seconds on the source clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.records import Cue, Word

# Parts of a multi-word name shorter than this are not redacted on their own ("Al", "Bin").
MIN_PART_LENGTH = 3


@dataclass(frozen=True, slots=True)
class Redaction:
    """One redacted occurrence: the words said between `start` and `end` (source seconds)."""

    term: str
    start: float
    end: float
    said: str


def _norm(text: str) -> str:
    """Case- and accent-insensitive form of a word, without surrounding punctuation."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"^[\W_]+|[\W_]+$", "", text)


def expand_terms(terms: Iterable[str], include_parts: bool = True) -> tuple[str, ...]:
    """The terms to look for: each term, and (for safety) each long-enough part of a multi-word
    term, since people say "Haddad" as often as "Karim Haddad". Longest first."""
    out: dict[str, None] = {}
    for term in terms:
        term = " ".join(term.split())
        if not term:
            continue
        out[term] = None
        if include_parts:
            for part in term.split(" "):
                if len(_norm(part)) >= MIN_PART_LENGTH:
                    out[part] = None
    return tuple(sorted(out, key=lambda t: (-len(t.split()), -len(t), t)))


def find_redactions(
    words: Sequence[Word], terms: Iterable[str], include_parts: bool = True
) -> tuple[Redaction, ...]:
    """Every run of consecutive words that spells a term (normalised), earliest first.

    A word that carries a term glued to a suffix ("Haddad's") matches too.
    """
    expanded = [(t, [_norm(p) for p in t.split(" ")]) for t in expand_terms(terms, include_parts)]
    normed = [_norm(w.text) for w in words]
    hits: list[Redaction] = []
    i = 0
    while i < len(words):
        for term, parts in expanded:
            n = len(parts)
            if i + n > len(words):
                continue
            window = normed[i:i + n]
            if window[:-1] == parts[:-1] and _matches_last(window[-1], parts[-1]):
                hits.append(Redaction(term, words[i].start, words[i + n - 1].end,
                                      " ".join(w.text for w in words[i:i + n])))
                i += n
                break
        else:
            i += 1
    return tuple(hits)


def _matches_last(said: str, part: str) -> bool:
    if said == part:
        return True
    # Possessives and clitics: "haddad's", "haddads".
    suffix = said[len(part):]
    return bool(part) and said.startswith(part) and re.fullmatch(r"(?:'s|’s|s|')", suffix) is not None


def redact_text(text: str, terms: Iterable[str], pseudonym: str, include_parts: bool = True) -> str:
    """`text` with every term (whole words, any case) replaced by `pseudonym`."""
    expanded = expand_terms(terms, include_parts)
    if not expanded:
        return text
    alternatives = "|".join(r"\s+".join(re.escape(p) for p in t.split(" ")) for t in expanded)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    out = pattern.sub(pseudonym, text)
    # "Karim Haddad" said as two matches would read "Pseudonym Pseudonym": collapse repeats.
    if pseudonym:
        out = re.sub(rf"(?:{re.escape(pseudonym)})(?:\s+{re.escape(pseudonym)})+", pseudonym, out)
    return out


def redact_cues(cues: Sequence[Cue], terms: Iterable[str], pseudonym: str,
                max_chars: int = 42, include_parts: bool = True) -> tuple[Cue, ...]:
    """Cues with terms replaced; a cue whose lines grow past `max_chars` is re-wrapped."""
    terms = tuple(terms)
    out = []
    for cue in cues:
        lines = tuple(redact_text(line, terms, pseudonym, include_parts) for line in cue.lines)
        if lines != cue.lines and any(len(line) > max_chars for line in lines):
            lines = wrap_lines(" ".join(lines), max_chars)
        out.append(Cue(cue.start, cue.end, lines))
    return tuple(out)


def wrap_lines(text: str, max_chars: int = 42, max_lines: int = 2) -> tuple[str, ...]:
    """Greedy balanced wrap at spaces; never splits a word (a single long word stays whole)."""
    words = text.split()
    if not words:
        return ()
    if len(text) <= max_chars:
        return (" ".join(words),)
    best: tuple[str, ...] | None = None
    for k in range(1, len(words)):  # two balanced lines, the most even split that fits
        a, b = " ".join(words[:k]), " ".join(words[k:])
        if len(a) <= max_chars and len(b) <= max_chars and (
            best is None or abs(len(a) - len(b)) < abs(len(best[0]) - len(best[1]))
        ):
            best = (a, b)
    if best is not None:
        return best
    # Too long for two lines of max_chars: still never split a word, split at the middle word.
    k = max(1, len(words) // 2)
    return (" ".join(words[:k]), " ".join(words[k:]))


def bleep_intervals(redactions: Sequence[Redaction], start: float, end: float,
                    padding: float = 0.06) -> tuple[tuple[float, float], ...]:
    """Redactions as clip-relative (from `start`) intervals, padded, clipped and merged."""
    spans = sorted(
        (max(0.0, r.start - padding - start), min(end - start, r.end + padding - start))
        for r in redactions
        if r.end > start and r.start < end
    )
    merged: list[list[float]] = []
    for a, b in spans:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((round(a, 3), round(b, 3)) for a, b in merged)
