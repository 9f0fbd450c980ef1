"""Sentences from word timestamps.

Backend segments are ignored on purpose: batched Whisper returns long segments that cut across
sentences, while its word timestamps and punctuation are good. A sentence ends at sentence-final
punctuation, at a long pause, or when it grows too long, so unpunctuated speech still splits.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipeline.records import Sentence, Word

# Latin and common scripts, Arabic (question mark, Urdu full stop), CJK full-width, Devanagari,
# Armenian and Ethiopic full stops.
SENTENCE_FINAL = frozenset(".?!…؟۔。？！．‼⁇⁈⁉।॥։።")
# Clause punctuation: a good place to split an over-long sentence or to break a line.
CLAUSE_PUNCT = frozenset(",;:–—、，；：،؛")
# Characters that may follow final punctuation and still end the sentence: `end."`, `end.)`.
CLOSERS = frozenset("\"'”’»)]}›」』）】〕〉》")
# Characters that open something and belong to the following word: `"Hello`, `¿Qué`.
OPENERS = frozenset("\"'“‘«([{‹「『（【〔〈《¿¡")

# Lower-cased tokens ending in "." that do not end a sentence.
ABBREVIATIONS = frozenset(
    {
        "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "etc.", "e.g.", "i.e.",
        "approx.", "dept.", "gen.", "col.", "lt.", "sgt.", "capt.", "gov.", "sen.", "rep.",
        "u.s.", "u.k.", "u.n.", "a.m.", "p.m.", "mt.", "fig.", "cf.", "z.b.", "bzw.", "usw.",
        "mme.", "mlle.", "sra.", "d.h.",
    }
)  # fmt: skip

# Languages written without spaces between words (Whisper's codes).
UNSPACED_LANGUAGES = frozenset({"ja", "zh", "yue", "th", "lo", "km", "my", "bo"})

_CONTRACTION = re.compile(r"^(?:['’](?:s|re|t|ll|ve|d|m)|n['’]t)$", re.IGNORECASE)
_DECIMAL_TAIL = re.compile(r"\d\.$")
# Tokens that continue the previous word: ".org" in "www" ".maxis" ".org", "-based", "@mail".
# Whisper marks a new word with a leading space, which the transcript no longer carries.
_CONTINUATION = re.compile(r"^[.@\-][^\W_]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SentenceOptions:
    """How words are grouped into sentences.

    max_pause: a silence of at least this many seconds between two words ends a sentence even
        without punctuation (1.5 s: longer than a breath or a hesitation, shorter than a turn).
    max_chars: a sentence longer than this many characters is split at its best inner break
        (clause punctuation, then the longest pause), so run-on speech stays usable (220).
    max_duration: likewise for seconds of speech (20 s).
    min_chars: a forced split never leaves a part shorter than this many characters (20).
    """

    max_pause: float = 1.5
    max_chars: int = 220
    max_duration: float = 20.0
    min_chars: int = 20


def build_sentences(
    words: Sequence[Word], language: str = "", options: SentenceOptions = SentenceOptions()
) -> tuple[Sentence, ...]:
    """Group word-timed words into sentences; times are seconds taken from the words."""
    cleaned = clean_words(words)
    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(cleaned):
        # A speaker change always ends the sentence: one sentence, one voice.
        if current and (
            word.start - current[-1].end >= options.max_pause or word.speaker != current[-1].speaker
        ):
            groups.extend(_split_long(current, language, options))
            current = []
        current.append(word)
        next_word = cleaned[i + 1] if i + 1 < len(cleaned) else None
        if ends_sentence(word.text, next_word.text if next_word else None):
            groups.extend(_split_long(current, language, options))
            current = []
    if current:
        groups.extend(_split_long(current, language, options))
    return tuple(
        Sentence(
            index=i,
            start=group[0].start,
            end=max(w.end for w in group),
            text=join_words([w.text for w in group], language),
            words=tuple(group),
            language=language,
            speaker=group[0].speaker,
        )
        for i, group in enumerate(groups)
    )


def clean_words(words: Iterable[Word]) -> list[Word]:
    """Whisper quirks removed: stripped text, no empty words, punctuation-only tokens attached
    to their neighbour, contractions and continuations (".org") glued back, and monotonic
    non-overlapping times."""
    merged: list[Word] = []
    pending_prefix = ""
    for word in words:
        text = " ".join(word.text.split())
        if not text:
            continue
        if _is_punctuation(text):
            if all(ch in OPENERS for ch in text) and not (merged and _closes_quote(merged, text)):
                pending_prefix += text
            elif merged:
                merged[-1] = _replace_text(merged[-1], merged[-1].text + text)
            else:
                pending_prefix += text
            continue
        glue = _CONTRACTION.match(text) or (
            _CONTINUATION.match(text) and merged and merged[-1].text[-1:].isalnum()
        )
        if glue and merged and not pending_prefix:
            prev = merged[-1]
            merged[-1] = replace(prev, end=max(prev.end, word.end), text=prev.text + text)
            continue
        if pending_prefix:
            text = pending_prefix + text
            pending_prefix = ""
        merged.append(_replace_text(word, text))
    if pending_prefix and merged:
        merged[-1] = _replace_text(merged[-1], merged[-1].text + pending_prefix)
    return _monotonic(merged)


def _closes_quote(merged: list[Word], text: str) -> bool:
    # A straight quote closes when one is still open among the recent words: `"Never again!"`.
    return text in {'"', "'"} and sum(w.text.count(text) for w in merged[-40:]) % 2 == 1


def _replace_text(word: Word, text: str) -> Word:
    return replace(word, text=text)


def _monotonic(words: list[Word]) -> list[Word]:
    # Whisper sometimes returns overlapping, reversed or non-finite times. Starts are the more
    # reliable end of its alignment (a word's end often runs into the following silence), so
    # starts are made non-decreasing and an end that runs past the next start is trimmed to it:
    # one bogus long word then cannot push every following word later.
    times: list[list[float]] = []
    prev_start = 0.0
    for w in words:
        start = w.start if math.isfinite(w.start) else (times[-1][1] if times else 0.0)
        start = max(start, prev_start, 0.0)
        end = w.end if math.isfinite(w.end) else start
        times.append([start, max(end, start)])
        prev_start = start
    for here, after in zip(times, times[1:], strict=False):
        here[1] = min(here[1], after[0])
    return [replace(w, start=t[0], end=t[1]) for t, w in zip(times, words, strict=True)]


def _is_punctuation(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PS" for ch in text)


def ends_sentence(text: str, next_text: str | None = None) -> bool:
    """True when a word ends with sentence-final punctuation (closing quotes may follow)."""
    core = text.rstrip("".join(CLOSERS))
    if not core or core[-1] not in SENTENCE_FINAL:
        return False
    if core[-1] == ".":
        if core.lower() in ABBREVIATIONS:
            return False
        # "3." then "5" is a number the backend split, not an ending.
        if _DECIMAL_TAIL.search(core) and next_text and next_text[0].isdigit():
            return False
        # A single capital initial ("J. Smith") is not an ending when a capitalised word follows.
        if len(core) == 2 and core[0].isupper() and next_text and next_text[:1].isupper():
            return False
    return True


def ends_clause(text: str) -> bool:
    """True when a word ends with clause punctuation (comma, semicolon, colon, dash)."""
    core = text.rstrip("".join(CLOSERS))
    return bool(core) and core[-1] in CLAUSE_PUNCT


def is_unspaced_char(ch: str) -> bool:
    """Characters of scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar...)."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # CJK radicals, punctuation, kana, ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x2FFFF  # CJK extensions
        or 0x0E00 <= code <= 0x0EFF  # Thai, Lao
        or 0x1000 <= code <= 0x109F  # Myanmar
        or 0x1780 <= code <= 0x17FF  # Khmer
        or 0x0F00 <= code <= 0x0FFF  # Tibetan
    )


def join_words(texts: Sequence[str], language: str = "") -> str:
    """Join word texts with spaces where the script uses them.

    Between two unspaced-script words no space is put; a Latin word inside Japanese or Chinese
    text gets spaces only next to another Latin word ("AutoCut" in "我的名字是AutoCut").
    """
    unspaced_language = language.split("-")[0].lower() in UNSPACED_LANGUAGES
    parts: list[str] = []
    for text in texts:
        if parts:
            left, right = parts[-1][-1], text[0]
            if unspaced_language:
                # Latin words inside Japanese/Chinese keep their spaces ("Google News"), but a
                # lower-case continuation is one word split into tokens ("Go" + "ogle").
                latin = left.isascii() and left.isalnum() and right.isascii() and right.isalnum()
                spaced = latin and not right[0].islower()
            else:
                spaced = not (is_unspaced_char(left) and is_unspaced_char(right))
            if spaced:
                parts.append(" ")
        parts.append(text)
    return "".join(parts)


def _split_long(words: list[Word], language: str, options: SentenceOptions) -> list[list[Word]]:
    """Split a group that is too long at its best inner break, recursively."""
    text_len = len(join_words([w.text for w in words], language))
    duration = words[-1].end - words[0].start
    if len(words) < 2 or (text_len <= options.max_chars and duration <= options.max_duration):
        return [words]
    best_i, best_score = len(words) // 2, -math.inf
    prefix = 0
    lengths = [len(w.text) + 1 for w in words]
    total = sum(lengths)
    for i in range(1, len(words)):
        prefix += lengths[i - 1]
        if prefix < options.min_chars or total - prefix < options.min_chars:
            continue
        gap = words[i].start - words[i - 1].end
        score = gap + (1.0 if ends_clause(words[i - 1].text) else 0.0)
        # Prefer balanced parts a little, so ties do not produce a tiny tail.
        score -= 0.3 * abs(prefix / total - 0.5)
        if score > best_score:
            best_i, best_score = i, score
    return _split_long(words[:best_i], language, options) + _split_long(words[best_i:], language, options)
