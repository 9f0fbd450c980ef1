"""Identity redaction in subtitles and audio: terms found by `pipeline.terms` (the one matching
rule) are replaced in the text and bleeped over their word timestamps.

Pure functions over words and cues; times are float seconds on the source clock unless a name
says "clip".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.records import Cue, Word
from pipeline.terms import BREAK, MIN_PART_LENGTH, Term, TermMatcher, fold, redaction_terms


@dataclass(frozen=True, slots=True)
class Redaction:
    """One redacted occurrence: the words said between `start` and `end` (source seconds)."""

    term: str
    start: float
    end: float
    said: str


def _stream(pieces: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """`pieces` joined by BREAK, with each piece's (start, end) offset in the joined text."""
    spans, at = [], 0
    for p in pieces:
        spans.append((at, at + len(p)))
        at += len(p) + len(BREAK)
    return BREAK.join(pieces), spans


# How far from a cut `find_spoken` looks. A term said across the cut's edge is found whole (no
# name takes 30 s to say), and a word farther out cannot reach the clip: bleep padding is a
# fraction of a second. So the plan's bleeps are the same as over the whole interview.
SPOKEN_MARGIN = 30.0


def words_near(words: Sequence[Word], start: float, end: float,
               margin: float = SPOKEN_MARGIN) -> tuple[Word, ...]:
    """The words within `margin` seconds of the cut [start, end], in order."""
    return tuple(w for w in words if w.end >= start - margin and w.start <= end + margin)


def find_spoken(words: Sequence[Word], matcher: TermMatcher) -> tuple[Redaction, ...]:
    """Every run of words that says a term (by the same rule as the text), earliest first.
    A term split over two recognised words ("Dar" "wish") is found too."""
    text, spans = _stream([w.text.strip() for w in words])
    starts = [a for a, _ in spans]

    def owner(k: int) -> int:  # the word whose text (or the break after it) holds offset k
        return max(0, bisect_right(starts, k) - 1)

    hits = []
    for m in matcher.find(text):
        first, last = owner(m.start), owner(max(m.start, m.end - 1))
        hits.append(Redaction(m.term.text, words[first].start, words[last].end,
                              " ".join(w.text.strip() for w in words[first:last + 1])))
    return tuple(hits)


def redact_track(cues: Sequence[Cue], matcher: TermMatcher, max_chars: int = 42) -> tuple[Cue, ...]:
    """Cues with every term replaced, also where a term runs across lines or cues: its
    replacement goes where it starts and the rest of it is removed. A cue left empty is dropped;
    a line that grows past `max_chars` is re-wrapped."""
    where: list[tuple[int, int]] = [(ci, li) for ci, c in enumerate(cues) for li in range(len(c.lines))]
    text, spans = _stream([line for c in cues for line in c.lines])
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for m in matcher.find(text):
        placed = False
        for k, (a, b) in enumerate(spans):
            lo, hi = max(a, m.start), min(b, m.end)
            if lo >= hi:
                continue
            edits.setdefault(k, []).append((lo - a, hi - a, "" if placed else m.term.replacement))
            placed = True
    lines = [line for c in cues for line in c.lines]
    for k, changes in edits.items():
        line = lines[k]
        for a, b, repl in sorted(changes, reverse=True):
            line = line[:a] + repl + line[b:]
        lines[k] = _tidy(line)
    out: list[Cue] = []
    for ci, cue in enumerate(cues):
        mine = tuple(lines[k] for k, (c, _li) in enumerate(where) if c == ci and lines[k])
        changed = any(k in edits for k, (c, _li) in enumerate(where) if c == ci)
        if changed and any(len(x) > max_chars for x in mine):
            mine = wrap_lines(" ".join(mine), max_chars)
        if mine:
            out.append(Cue(cue.start, cue.end, mine))
    return tuple(out)


def _tidy(line: str) -> str:
    line = " ".join(line.split())
    return re.sub(r"^[\s,;:]+(?=\S)", "", line) if line else line


def _collapse(text: str, replacement: str) -> str:
    """"Karim Haddad" found as two parts would read "Amal Amal": one replacement is enough."""
    if not replacement:
        return text
    return re.sub(rf"(?:{re.escape(replacement)})(?:\s+{re.escape(replacement)})+", replacement, text)


# ---- older entry points: one replacement for every term (kept for callers not yet on plans) ------

def _legacy_terms(terms: Iterable[str], replacement: str, include_parts: bool) -> tuple[Term, ...]:
    whole = [" ".join(t.split()) for t in terms if fold(t)]
    if include_parts:
        return tuple(Term(t.text, replacement) for t in redaction_terms(whole, (), replacement or "x"))
    return tuple(Term(t, replacement) for t in whole)


def expand_terms(terms: Iterable[str], include_parts: bool = True) -> tuple[str, ...]:
    """The terms to look for: each term and each long-enough part, longest first."""
    out: dict[str, None] = {}
    for term in terms:
        term = " ".join(term.split())
        if not term:
            continue
        out[term] = None
        if include_parts:
            for part in term.split(" "):
                if len(fold(part)) >= MIN_PART_LENGTH:
                    out[part] = None
    return tuple(sorted(out, key=lambda t: (-len(t.split()), -len(t), t)))


def find_redactions(words: Sequence[Word], terms: Iterable[str],
                    include_parts: bool = True) -> tuple[Redaction, ...]:
    return find_spoken(words, TermMatcher(_legacy_terms(terms, "", include_parts)))


def redact_text(text: str, terms: Iterable[str], pseudonym: str, include_parts: bool = True) -> str:
    """`text` with every term replaced by `pseudonym` (the pre-plan rule; plans use Term
    replacements from `pipeline.terms.redaction_terms`)."""
    matcher = TermMatcher(_legacy_terms(terms, pseudonym, include_parts))
    for m in reversed(matcher.find(text)):
        text = text[:m.start] + pseudonym + text[m.end:]
    return _collapse(text, pseudonym)


def redact_cues(cues: Sequence[Cue], terms: Iterable[str], pseudonym: str,
                max_chars: int = 42, include_parts: bool = True) -> tuple[Cue, ...]:
    out = redact_track(cues, TermMatcher(_legacy_terms(terms, pseudonym, include_parts)), max_chars)
    return tuple(Cue(c.start, c.end, tuple(_collapse(x, pseudonym) for x in c.lines)) for c in out)


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
