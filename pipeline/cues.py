"""Subtitle cues from word-timed sentences, within broadcast style limits.

Limits (docs/SUBTITLES.md): at most 2 lines of at most 42 characters; reading speed target 17
characters per second, hard limit 20; each cue 0.83-7 s; at least 2 frames between cues; never
split a word; break lines at phrase boundaries. Line length is measured in display columns: a
full-width CJK character counts 2, a combining mark (Arabic harakat) 0. Right-to-left text is
wrapped in logical order and never reversed; the renderer's shaper (libass with fribidi) orders it.

How: each sentence is cut into chunks by dynamic programming over word boundaries (a chunk must
wrap into the allowed lines; the cost prefers phrase boundaries, even reading speed and few
cues); chunks with too little time are merged across sentence boundaries; then times are laid out
on a frame grid so that the gap and duration rules hold exactly.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import SubtitleError
from pipeline.frames import frame_rate
from pipeline.records import Cue, Sentence, Word
from pipeline.sentences import (
    UNSPACED_LANGUAGES,
    build_sentences,
    clean_words,
    ends_clause,
    ends_sentence,
    is_unspaced_char,
    join_words,
)


@dataclass(frozen=True, slots=True)
class CueOptions:
    """Style limits and layout preferences for subtitle cues. Times in seconds.

    max_lines: lines per cue (2). max_line_chars: display columns per line (42).
    target_cps: reading speed the layout aims for, characters per second (17).
    max_cps: hard reading-speed limit (20); more only when the speech itself is faster.
    min_duration / max_duration: how long a cue stays on screen (0.83 s / 7 s).
    fps: frame rate the times are snapped to (25). min_gap_frames: frames between cues (2).
    close_gap: gaps shorter than this are closed down to the minimum gap, so cues chain without
        flicker and gain reading time (0.5 s).
    max_lead: how far a cue may start before its first word to gain reading time (0.25 s).
    max_delay: how far a cue may start after its first word so that the previous cue keeps its
        reading speed (0.5 s); the minimum duration may push further.
    language: Whisper language code, used to join words when given plain words ("").
    """

    max_lines: int = 2
    max_line_chars: int = 42
    target_cps: float = 17.0
    max_cps: float = 20.0
    min_duration: float = 0.83
    max_duration: float = 7.0
    fps: float = 25.0
    min_gap_frames: int = 2
    close_gap: float = 0.5
    max_lead: float = 0.25
    max_delay: float = 0.5
    language: str = ""

    def __post_init__(self) -> None:
        if self.max_lines < 1 or self.max_line_chars < 1 or self.fps <= 0:
            raise SubtitleError("cue options need max_lines >= 1, max_line_chars >= 1 and fps > 0")
        if not 0 < self.min_duration <= self.max_duration:
            raise SubtitleError("cue options need 0 < min_duration <= max_duration")
        if not 0 < self.target_cps <= self.max_cps:
            raise SubtitleError("cue options need 0 < target_cps <= max_cps")

    @property
    def min_gap(self) -> float:
        return self.min_gap_frames / self.fps


# Words that bind to what follows: a line or cue should not end on them ("the / house").
_BIND_FORWARD = frozenset(
    """
    a an the to of in on at for with from by into onto about as and or but nor so if than that
    my your his her its our their this these those i we he she they you who whose which
    is am are was were be been has have had will would can could should may might must not do does did
    le la les un une des du de d' l' à au aux en et ou mais ni je tu il elle nous vous ils elles ce
    cette ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs qui que pour dans sur
    avec par sans sous ne
    der die das den dem des ein eine einen einem einer und oder aber zu im mit von vom für auf an am
    ich wir er sie es nicht dass
    el los las una del al y o pero con por para mi su sus yo tu nos se lo
    il lo gli uno di da dei della nel che per non
    في من على إلى عن مع أو ثم لكن أن إن الذي التي الذين لا ما هذا هذه
    """.split()
)
# Words a line or cue may well start with: conjunctions, prepositions, relative pronouns.
_BREAK_BEFORE = frozenset(
    """
    and but or nor so because although though while whereas when where whether if unless until
    since after before as than then that which who whom whose what how why
    in on at to of for with from by into onto about through without within between against during
    et mais ou donc car parce quand lorsque si puis qui que dont où pour dans avec sans sur
    und aber oder denn weil wenn als dass ob mit von für auf zu nach bei
    y pero porque cuando si que con para por sin sobre
    e ma perché quando se con per senza
    و لكن ثم أو لأن حتى عندما إذا في من على إلى عن مع الذي التي الذين
    """.split()
)
# Japanese particles: a good place to break after.
_JA_PARTICLES = frozenset("はがをにでともへやのねよ")
_BALANCE = 2.0  # weight of squared line widths (as a share of the line limit) when wrapping
_STRIP = "\"'“”‘’«»()[]{}¿¡,.;:!?…،؛؟。、，！？"


def build_cues(
    items: Sequence[Sentence] | Sequence[Word], options: CueOptions = CueOptions()
) -> tuple[Cue, ...]:
    """Cues for sentences (or plain words, grouped into sentences first), in time order."""
    sentences = sorted(_as_sentences(items, options), key=lambda s: s.start)
    word_lists = [_words_of(s) for s in sentences]
    chunks: list[_Chunk] = []
    for k, (sentence, words) in enumerate(zip(sentences, word_lists, strict=True)):
        if words:
            language = sentence.language or options.language
            after = next((ws[0].start for ws in word_lists[k + 1 :] if ws), math.inf)
            parts = _chunk_sentence(words, language, options, after)
            chunks.extend(_Chunk(part, language) for part in parts)
    chunks.sort(key=lambda c: c.words[0].start)
    _set_next_starts(chunks)
    chunks = _merge_starved(chunks, options)
    return _rebalance(chunks, options)


@dataclass(slots=True)
class _Chunk:
    words: list[Word]
    language: str
    next_start: float = math.inf  # start of the following chunk's first word, seconds

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def texts(self) -> list[str]:
        return [w.text for w in self.words]


def _as_sentences(items: Sequence[Sentence] | Sequence[Word], options: CueOptions) -> list[Sentence]:
    if not items:
        return []
    if all(isinstance(x, Sentence) for x in items):
        return list(items)  # type: ignore[arg-type]
    if all(isinstance(x, Word) for x in items):
        return list(build_sentences(items, options.language))  # type: ignore[arg-type]
    raise SubtitleError("build_cues takes a sequence of Sentence or of Word records, not a mix")


def _words_of(sentence: Sentence) -> list[Word]:
    if sentence.words:
        return clean_words(sentence.words)
    # A sentence without word times (e.g. a translated segment): spread its tokens over its
    # span in proportion to their length, which is as good as the information allows.
    language = sentence.language.split("-")[0].lower()
    tokens = list(sentence.text) if language in UNSPACED_LANGUAGES else sentence.text.split()
    tokens = [t for t in tokens if t.strip()]
    if not tokens:
        return []
    total = sum(len(t) for t in tokens)
    span = max(sentence.end - sentence.start, 0.0)
    out, t = [], sentence.start
    for token in tokens:
        dt = span * len(token) / total
        out.append(Word(t, t + dt, token, 1.0))
        t += dt
    return clean_words(out)


# ---------------------------------------------------------------------------------------------
# Measuring and wrapping text


def display_width(text: str) -> int:
    """Columns a line occupies: wide CJK characters count 2, combining and format marks 0."""
    width = 0
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def reading_chars(text: str) -> int:
    """Characters a viewer reads (line breaks count as a space; marks and format chars do not)."""
    return sum(1 for ch in " ".join(text.split("\n")) if unicodedata.category(ch) not in ("Mn", "Me", "Cf"))


def _script(ch: str) -> str:
    code = ord(ch)
    if 0x3040 <= code <= 0x309F:
        return "hiragana"
    if 0x30A0 <= code <= 0x30FF or 0xFF66 <= code <= 0xFF9F:
        return "katakana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if ch.isascii() and ch.isalnum():
        return "latin"
    return "other"


def _unspaced_break_penalty(left: str, right: str) -> float:
    # Whisper's Japanese and Chinese "words" are often single characters, so a word boundary
    # must be guessed from the scripts: katakana runs, kanji compounds and Latin words hold
    # together; a change from kana to kanji or after a particle is a likely word start.
    a, b = _script(left[-1]), _script(right[0])
    if a == b and a in ("katakana", "latin"):
        return 1.5
    if a == b == "han":
        return 1.2
    if left[-1] in _JA_PARTICLES and b != "hiragana":
        return 0.2
    if a == "hiragana" and b in ("han", "katakana", "latin"):
        return 0.3
    return 0.8


def break_penalty(left: str, right: str) -> float:
    """Cost of breaking a line or a cue between two words: 0 best (sentence end), ~1.5 worst."""
    if ends_sentence(left):
        return 0.0
    if ends_clause(left):
        return 0.1
    if is_unspaced_char(left[-1]) or is_unspaced_char(right[0]):
        return _unspaced_break_penalty(left, right)
    if right[:1] in "\"“«(¿¡[":
        return 0.3
    lw, rw = left.strip(_STRIP).lower(), right.strip(_STRIP).lower()
    if lw in _BIND_FORWARD:
        return 1.5
    if rw in _BREAK_BEFORE:
        return 0.3
    if left[-1:] in "-–—":
        return 0.2
    return 0.8


class _Measure:
    """Widths, separators and break costs of one word sequence, so that any span's width is two
    subtractions instead of a string join (the chunking tries many spans)."""

    __slots__ = ("texts", "language", "cw", "cr", "sep", "bp")

    def __init__(self, texts: Sequence[str], language: str) -> None:
        self.texts = list(texts)
        self.language = language
        self.cw = [0]  # prefix sums of word display widths
        self.cr = [0]  # prefix sums of word reading characters
        for t in self.texts:
            self.cw.append(self.cw[-1] + display_width(t))
            self.cr.append(self.cr[-1] + reading_chars(t))
        # sep[k + 1] - sep[i + 1]: spaces between words i..k; join_words decides per pair.
        self.sep = [0, 0]
        for a, b in zip(self.texts, self.texts[1:], strict=False):
            spaced = len(join_words([a, b], language)) > len(a) + len(b)
            self.sep.append(self.sep[-1] + int(spaced))
        self.bp = [0.0] + [break_penalty(a, b) for a, b in zip(self.texts, self.texts[1:], strict=False)]

    def width(self, i: int, j: int) -> int:
        """Display width of words i..j-1 joined."""
        return self.cw[j] - self.cw[i] + self.sep[j] - self.sep[i + 1]

    def chars(self, i: int, j: int) -> int:
        return self.cr[j] - self.cr[i] + self.sep[j] - self.sep[i + 1]

    def line_ok(self, i: int, j: int, max_chars: int) -> bool:
        # The only allowed overflow is a single word longer than the line.
        return j - i == 1 or self.width(i, j) <= max_chars

    def wrap(self, i: int, j: int, options: CueOptions) -> tuple[list[int], float] | None:
        """Line starts (indices) for words i..j-1 and the cost of the breaks, or None.

        One line when it fits; otherwise the breaks that best follow phrase boundaries while
        keeping lines balanced (a slightly longer bottom line is preferred, as in broadcast).
        """
        if j <= i:
            return None
        limit = options.max_line_chars
        if self.line_ok(i, j, limit):
            return [i], 0.0
        if options.max_lines < 2:
            return None
        inf = math.inf
        # best[k][e]: cheapest way to put words i..e-1 on k lines.
        best = [dict.fromkeys(range(i, j + 1), inf) for _ in range(options.max_lines + 1)]
        back: list[dict[int, int]] = [{} for _ in range(options.max_lines + 1)]
        best[0][i] = 0.0
        for k in range(1, options.max_lines + 1):
            for e in range(i + 1, j + 1):
                tail = self.bp[e] if e < j else 0.0
                for b in range(e - 1, i - 1, -1):
                    if not self.line_ok(b, e, limit):
                        break  # longer lines only get wider
                    if best[k - 1][b] == inf:
                        continue
                    cost = best[k - 1][b] + tail + _BALANCE * (self.width(b, e) / limit) ** 2
                    if cost < best[k][e]:
                        best[k][e], back[k][e] = cost, b
        k = min(range(1, options.max_lines + 1), key=lambda kk: (best[kk][j], kk))
        if best[k][j] == inf:
            return None
        starts, e = [], j
        for kk in range(k, 0, -1):
            e = back[kk][e]
            starts.append(e)
        starts.reverse()
        ws = [self.width(a, b) for a, b in zip(starts, [*starts[1:], j], strict=True)]
        # Report breaks plus imbalance only (squares minus their floor), so one two-line cue and
        # two one-line cues compare fairly.
        floor = _BALANCE * sum(ws) ** 2 / k / limit**2
        top_heavy = 0.05 if k == 2 and ws[0] > ws[1] else 0.0
        return starts, best[k][j] - floor + 0.3 * (k - 1) + top_heavy

    def lines(self, starts: list[int], j: int) -> tuple[str, ...]:
        ends = [*starts[1:], j]
        return tuple(join_words(self.texts[a:b], self.language) for a, b in zip(starts, ends, strict=True))


def wrap_words(
    texts: Sequence[str], language: str = "", options: CueOptions = CueOptions()
) -> tuple[tuple[str, ...], float] | None:
    """Lines for one cue's words and the cost of the breaks, or None when they cannot fit."""
    measure = _Measure(texts, language)
    wrapped = measure.wrap(0, len(measure.texts), options)
    if wrapped is None:
        return None
    starts, cost = wrapped
    return measure.lines(starts, len(measure.texts)), cost


def fill_lines(
    texts: Sequence[str], language: str = "", options: CueOptions = CueOptions()
) -> tuple[str, ...]:
    """Lines for one cue's words: `wrap_words`' when they fit, else filled greedily up to
    `options.max_line_chars` on as many lines as it takes, so that nothing is lost and the
    limit check can say so."""
    wrapped = wrap_words(texts, language, options)
    if wrapped is not None:
        return wrapped[0]
    lines: list[list[str]] = [[]]
    for text in texts:
        if lines[-1] and display_width(join_words([*lines[-1], text], language)) > options.max_line_chars:
            lines.append([])
        lines[-1].append(text)
    return tuple(join_words(line, language) for line in lines)


# ---------------------------------------------------------------------------------------------
# Cutting sentences into chunks


def _chunk_sentence(
    words: list[Word], language: str, options: CueOptions, after: float = math.inf
) -> list[list[Word]]:
    """Cut one sentence's words into cue-sized chunks with the least total cost.

    `after` is when the next sentence starts (seconds): the last chunk can be shown until then.
    """
    n = len(words)
    m = _Measure([w.text for w in words], language)
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    full_chars = m.chars(0, n)
    # The most a chunk can hold; wider spans are not even tried.
    max_width = options.max_lines * options.max_line_chars + options.max_lines
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            single = j - i == 1
            if not single and (
                words[j - 1].end - words[i].start > options.max_duration or m.width(i, j) > max_width
            ):
                break
            if best[i] == math.inf:
                continue
            wrapped = m.wrap(i, j, options)
            if wrapped is None:
                continue
            chars = m.chars(i, j)
            # Time this chunk could be shown if the next one starts with its first word.
            until = words[j].start if j < n else min(after, words[j - 1].end + options.max_duration)
            avail = min(max(until - options.min_gap - words[i].start, 1e-3), options.max_duration)
            cost = 2.0 + wrapped[1]  # per cue: fewer, fuller cues read more calmly
            if j < n:
                cost += 2.0 * m.bp[j]
            # Missing seconds, not cps ratios: time one cue borrows, its neighbour loses, so
            # deficits add up across a sentence the way the layout will feel them.
            soft = max(0.0, chars / options.target_cps - avail)
            hard = max(0.0, max(options.min_duration, chars / options.max_cps) - avail)
            cost += 3.0 * soft + 15.0 * hard  # the hard limit is a rule, not a preference
            if chars < 12 and chars < full_chars:
                cost += 1.5  # a fragment like "the" alone on screen reads badly
            if best[i] + cost < best[j]:
                best[j], back[j] = best[i] + cost, i
    parts, j = [], n
    while j > 0:
        i = back[j]
        parts.append(words[i:j])
        j = i
    parts.reverse()
    return parts


def _set_next_starts(chunks: list[_Chunk]) -> None:
    for a, b in zip(chunks, chunks[1:], strict=False):
        a.next_start = b.start
    if chunks:
        chunks[-1].next_start = math.inf


def _starved(chunk: _Chunk, prev: _Chunk | None, options: CueOptions) -> bool:
    """Too little time around this chunk for its minimum duration or hard reading speed."""
    lo = (prev.end + options.min_gap) if prev else 0.0
    lo = max(lo, chunk.start - options.max_lead)
    hi = chunk.next_start - options.min_gap
    window = min(hi - lo, options.max_duration)
    chars = reading_chars(join_words(chunk.texts, chunk.language))
    return window < options.min_duration or chars / max(window, 1e-3) > options.max_cps


def _fits(words: list[Word], language: str, options: CueOptions) -> bool:
    return (
        words[-1].end - words[0].start <= options.max_duration
        and wrap_words([w.text for w in words], language, options) is not None
    )


def _ends_on_fragment(first: _Chunk, second: _Chunk) -> bool:
    """True when first + second would hold a sentence end and then stop mid-sentence."""
    return ends_sentence(first.words[-1].text) and not ends_sentence(second.words[-1].text)


def _merge_starved(chunks: list[_Chunk], options: CueOptions) -> list[_Chunk]:
    """Merge chunks that cannot get enough screen time with a neighbour they fit with."""
    k = 0
    while k < len(chunks):
        chunk = chunks[k]
        prev = chunks[k - 1] if k else None
        if not _starved(chunk, prev, options):
            k += 1
            continue
        nxt = chunks[k + 1] if k + 1 < len(chunks) else None
        # Merge towards the closer neighbour first: that is where the time is missing.
        gap_next = nxt.start - chunk.end if nxt else math.inf
        gap_prev = chunk.start - prev.end if prev else math.inf
        order = [(nxt, k, k + 1), (prev, k - 1, k)]
        if gap_prev < gap_next:
            order.reverse()
        # A merge whose cue would end on the start of a new sentence ("...at night. We") is
        # only the last resort, after every merge that keeps sentence ends at cue ends.
        tries = [(other, a, b, strict) for strict in (True, False) for other, a, b in order]
        for other, a, b, strict in tries:
            if other is None or chunks[a].language != chunks[b].language:
                continue
            if strict and _ends_on_fragment(chunks[a], chunks[b]):
                continue
            merged = chunks[a].words + chunks[b].words
            if _fits(merged, chunk.language, options):
                chunks[a : b + 1] = [_Chunk(merged, chunk.language, chunks[b].next_start)]
                if a > 0:
                    chunks[a - 1].next_start = chunks[a].start
                k = max(a - 1, 0)  # the merged chunk and its predecessor need a fresh look
                break
        else:
            k += 1  # nothing fits: the layout will borrow time instead
    return chunks


# ---------------------------------------------------------------------------------------------
# Timing on a frame grid


def _place(
    chunks: list[_Chunk], options: CueOptions, k0: int = 0, placed: list[list] | None = None,
    old: list[list] | None = None,
) -> list[list]:
    """Frame times for chunks[k0:], after `placed` (the cues before k0, which may be edited).

    Returns [start, end, lines, need, end as first placed] per cue, in frames. With `old` (a
    previous placement of the same chunks from some index on), stops as soon as a cue after k0
    lands where it did before: every later cue depends only on its predecessor, so the rest is
    the same.
    """
    fps = options.fps
    gap = options.min_gap_frames
    min_f = math.ceil(options.min_duration * fps - 1e-9)
    max_f = math.floor(options.max_duration * fps + 1e-9)
    lead_f = round(options.max_lead * fps)
    delay_f = round(options.max_delay * fps)
    close_f = round(options.close_gap * fps)
    placed = [] if placed is None else placed
    for k in range(k0, len(chunks)):
        chunk = chunks[k]
        wrapped = wrap_words(chunk.texts, chunk.language, options)
        lines = wrapped[0] if wrapped else (join_words(chunk.texts, chunk.language),)
        chars = reading_chars("\n".join(lines))
        nat_s = round(chunk.start * fps)
        nat_e = max(round(chunk.end * fps), nat_s + 1)
        prev = placed[-1] if placed else None
        lo = 0 if prev is None else prev[1] + gap
        start = max(nat_s, lo)
        want = max(min_f, math.ceil(chars / options.target_cps * fps))
        need = max(min_f, math.ceil(chars / options.max_cps * fps))
        end = max(nat_e, start + want)
        if k + 1 < len(chunks):
            next_s = round(chunks[k + 1].start * fps)
            if next_s - end < close_f:
                end = next_s - gap  # chain closely following cues: no flicker, more reading time
            end = min(end, next_s - gap)
            if end - start < need:
                # Take time before the first word: from a gap, or from the previous cue as far
                # as that one keeps its own reading speed.
                floor = lo if prev is None else min(lo, prev[0] + prev[3] + gap)
                new_start = min(start, max(floor, nat_s - lead_f, end - need))
                if prev is not None and new_start < lo:
                    prev[1] = new_start - gap
                start = new_start
            if end - start < need:
                # Then a little from the next cue's start: it may follow its words up to max_delay late.
                end = max(end, min(start + need, next_s + delay_f - gap))
        end = max(end, start + min_f)  # the minimum duration is never given up
        end = min(end, start + max_f)
        placed.append([start, end, tuple(lines), need, end])
        if old is not None and k > k0 + 1 and k < len(old) and (old[k][0], old[k][4], old[k][3]) == (
            start, end, need
        ):
            placed[-1][1] = old[k][1]  # as cue k + 1 trimmed it before
            placed.extend([list(x) for x in old[k + 1 :]])
            break
    return placed


def _cues(placed: list[list], options: CueOptions) -> tuple[Cue, ...]:
    # Frame numbers become seconds on the exact grid (29.97 fps is 30000/1001, not a float).
    rate = frame_rate(options.fps)
    return tuple(Cue(float(x[0] / rate), float(x[1] / rate), x[2]) for x in placed)


def _frames_cps(entry: list, fps: float) -> float:
    start, end, lines = entry[:3]
    return reading_chars("\n".join(lines)) * fps / max(end - start, 1)


def _rebalance(chunks: list[_Chunk], options: CueOptions) -> tuple[Cue, ...]:
    """Lay out, then move single words between neighbouring cues while that lowers a reading
    speed over the hard limit (the chunking only estimates the time each cue will get)."""
    fps = options.fps
    placed = _place(chunks, options)
    limit = options.max_cps
    stuck: set[int] = set()
    budget = 2 * len(chunks) + 10  # trial placements; each is local, so this stays linear
    k = 0
    while k < len(placed) and budget > 0:
        if k in stuck or _frames_cps(placed[k], fps) <= limit:
            k += 1
            continue
        bad = k
        lo, hi = max(bad - 1, 0), min(bad + 2, len(placed))
        before = max(_frames_cps(x, fps) for x in placed[lo:hi])
        moved = False
        for a, b, forward in ((bad, bad + 1, True), (bad - 1, bad, False)):
            if a < 0 or b >= len(chunks):
                continue
            first, second = chunks[a], chunks[b]
            if ends_sentence(first.words[-1].text) or first.language != second.language:
                continue  # a sentence end stays the end of its cue
            if forward and len(first.words) > 1:
                left, right = first.words[:-1], [first.words[-1], *second.words]
            elif not forward and len(second.words) > 1:
                left, right = [*first.words, second.words[0]], second.words[1:]
            else:
                continue
            if not (_fits(left, first.language, options) and _fits(right, first.language, options)):
                continue
            budget -= 1
            pair = [_Chunk(left, first.language), _Chunk(right, first.language)]
            trial = [*chunks[:a], *pair, *chunks[b + 1 :]]
            _set_next_starts(trial)
            # Cue a-1 may give time to cue a, so placement restarts there.
            k0 = max(a - 1, 0)
            trial_placed = _place(trial, options, k0, [list(x) for x in placed[:k0]], placed)
            if max(_frames_cps(x, fps) for x in trial_placed[lo:hi]) < before - 1e-6:
                chunks, placed, moved = trial, trial_placed, True
                break
        if moved:
            k = max(bad - 1, 0)
        else:
            stuck.add(bad)
            k += 1
    return _cues(placed, options)


# ---------------------------------------------------------------------------------------------
# Checking


def check_cue_limits(cues: Sequence[Cue], options: CueOptions = CueOptions()) -> list[str]:
    """Every violation of the style limits, one line each; empty when all hold."""
    problems: list[str] = []
    eps = 1e-3  # formats round to milliseconds (SRT, VTT) or centiseconds (ASS)
    prev: Cue | None = None
    for k, cue in enumerate(cues):
        where = f"cue {k} ({cue.start:.3f}-{cue.end:.3f} s)"
        duration = cue.end - cue.start
        if not cue.lines or any(not line.strip() for line in cue.lines):
            problems.append(f"{where}: empty line")
        if len(cue.lines) > options.max_lines:
            problems.append(f"{where}: {len(cue.lines)} lines > {options.max_lines}")
        for n, line in enumerate(cue.lines, 1):
            width = display_width(line)
            single_word = len(line.split()) == 1 and not any(is_unspaced_char(ch) for ch in line)
            if width > options.max_line_chars and not single_word:
                problems.append(f"{where}: line {n} is {width} characters wide > {options.max_line_chars}")
        if duration < options.min_duration - eps:
            problems.append(f"{where}: lasts {duration:.3f} s < {options.min_duration} s")
        if duration > options.max_duration + eps:
            problems.append(f"{where}: lasts {duration:.3f} s > {options.max_duration} s")
        if duration > 0:
            cps = reading_chars(cue.text) / duration
            if cps > options.max_cps + 0.05:
                problems.append(f"{where}: reading speed {cps:.1f} cps > {options.max_cps}")
        if prev is not None and cue.start - prev.end < options.min_gap - eps:
            problems.append(
                f"{where}: gap {cue.start - prev.end:.3f} s after the previous cue < {options.min_gap:.3f} s"
            )
        prev = cue
    return problems
