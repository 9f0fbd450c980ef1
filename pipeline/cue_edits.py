"""Editing a cue track: text in place, split, merge, and nudging cue edges or a shared boundary.

Each operation is pure: it returns a new `CueTrack` and the named problems (`check_cue`) of the
cues it touched, for display next to them. Every cue the operation does not name keeps its
times exactly; changed cues are marked `edited`, so a later trim keeps them while their words
stay inside the cut. Times snap to the track's frame grid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from pipeline.cue_track import (
    DASH,
    DEFAULT_OPTIONS,
    CueProblem,
    CueTrack,
    CueTrackError,
    TimedCue,
    check_cue,
    track_words,
)
from pipeline.cues import CueOptions, fill_lines, reading_chars
from pipeline.frames import frame_time, to_frame
from pipeline.records import Word
from pipeline.sentences import UNSPACED_LANGUAGES

Edge = Literal["start", "end"]
_UNSPACED_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.,%-]*|\S")


def wrap_text(text: str, language: str = "", options: CueOptions = DEFAULT_OPTIONS) -> tuple[str, ...]:
    """Lines for edited text: the editor's own line breaks when given, else the cue wrapping
    (phrase boundaries, balanced); text too long for two lines is filled greedily so that the
    limit check can say so."""
    given = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    given = [line for line in given if line]
    if not given:
        raise CueTrackError("cue text is empty")
    if len(given) > 1:
        return tuple(given)
    lang = language.split("-")[0].lower()
    # Japanese and Chinese wrap between characters; Latin words and numbers inside stay whole.
    tokens = _UNSPACED_TOKEN.findall(given[0]) if lang in UNSPACED_LANGUAGES else given[0].split()
    return fill_lines(tokens, language, options)


def _replaced(track: CueTrack, k: int, new: Sequence[TimedCue], options: CueOptions,
              ) -> tuple[CueTrack, tuple[CueProblem, ...]]:
    cues = (*track.cues[:k], *new, *track.cues[k + 1 :])
    result = replace(track, cues=cues)
    problems = tuple(p for c in new for p in check_cue(result, c.id, options))
    return result, problems


def edit_text(track: CueTrack, cue_id: str, text: str, options: CueOptions = DEFAULT_OPTIONS
              ) -> tuple[CueTrack, tuple[CueProblem, ...]]:
    """The cue with new text (line breaks kept when given); its times and every other cue stay."""
    k = track.index(cue_id)
    lines = wrap_text(text, track.language, options)
    return _replaced(track, k, [replace(track.cues[k], lines=lines, edited=True)], options)


def _unique_id(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def split_cue(track: CueTrack, cue_id: str, at: int, words: Sequence[Word] | None = None,
              options: CueOptions = DEFAULT_OPTIONS) -> tuple[CueTrack, tuple[CueProblem, ...]]:
    """Two cues from one, split at character offset `at` of its text (moved to the nearest word
    boundary). With the transcript's `words`, a cue whose text still has one token per word is
    split at that word's start; otherwise the time is shared in proportion to the characters.
    The first part keeps the id; every other cue keeps its times."""
    k = track.index(cue_id)
    cue = track.cues[k]
    text = " ".join(cue.text.split())
    unspaced = track.language.split("-")[0].lower() in UNSPACED_LANGUAGES
    cut = _boundary(text, at, unspaced)
    left, right = text[:cut].strip(), text[cut:].strip()
    if not left or not right:
        raise CueTrackError(f"cue {cue_id}: nothing on one side of the split")
    rate = track.rate
    gap = options.min_gap_frames
    s_f, e_f = to_frame(cue.start, rate), to_frame(cue.end, rate)
    a, b = cue.words
    n_left = len(left.split()) if not unspaced else len(left)
    tw = track_words(words) if words is not None else None
    tokens = len(text.split()) if not unspaced else len(text)
    if tw is not None and b - a == tokens and b <= len(tw) and not unspaced:
        mid = a + n_left
        split_f = to_frame(tw[mid].start, rate)
    else:
        share = reading_chars(left) / max(reading_chars(left) + reading_chars(right), 1)
        mid = a + round((b - a) * share)
        split_f = s_f + round((e_f - s_f) * share)
    split_f = min(max(split_f, s_f + 1 + gap), e_f - 1)
    if split_f - gap <= s_f or split_f >= e_f:
        raise CueTrackError(f"cue {cue_id} is too short to split into two cues {gap} frames apart")
    # Each part keeps at least one word where there are enough; else the second part has none.
    mid = min(max(mid, a + 1), b - 1) if b - a >= 2 else b
    first = replace(cue, end=frame_time(split_f - gap, rate), lines=wrap_text(left, track.language, options),
                    edited=True, words=(a, mid))
    second_id = _unique_id(f"w{mid}", {c.id for c in track.cues})
    second = replace(cue, id=second_id, start=frame_time(split_f, rate),
                     lines=wrap_text(right, track.language, options), edited=True, words=(mid, b))
    return _replaced(track, k, [first, second], options)


def _boundary(text: str, at: int, unspaced: bool) -> int:
    at = min(max(at, 0), len(text))
    if unspaced:
        return at
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return 0
    return min(spaces, key=lambda i: (abs(i - at), i))


def merge_cues(track: CueTrack, first_id: str, options: CueOptions = DEFAULT_OPTIONS
               ) -> tuple[CueTrack, tuple[CueProblem, ...]]:
    """One cue from `first_id` and the cue after it, from the first's start to the second's end.
    Different speakers each get a dashed line; other cues keep their times."""
    k = track.index(first_id)
    if k + 1 >= len(track.cues):
        raise CueTrackError(f"cue {first_id} is the last cue: nothing to merge it with")
    a, b = track.cues[k], track.cues[k + 1]
    speakers = tuple(dict.fromkeys((*a.speakers, *b.speakers)))
    if len(speakers) > 1 and len(a.speakers) == 1 and len(b.speakers) == 1:
        lines = (_dashed(a.text), _dashed(b.text))
    else:
        lines = wrap_text(" ".join([*a.lines, *b.lines]), track.language, options)
    span = (min(a.words[0], b.words[0]), max(a.words[1], b.words[1]))
    merged = TimedCue(a.id, a.start, b.end, lines, True, span, speakers)
    cues = (*track.cues[:k], merged, *track.cues[k + 2 :])
    result = replace(track, cues=cues)
    return result, check_cue(result, merged.id, options)


def _dashed(text: str) -> str:
    line = " ".join(text.split())
    return line if line.startswith(DASH) else DASH + line


def nudge_edge(track: CueTrack, cue_id: str, edge: Edge, t: float, options: CueOptions = DEFAULT_OPTIONS
               ) -> tuple[CueTrack, tuple[CueProblem, ...]]:
    """Move one edge of one cue to `t` (snapped to a frame), held between its neighbours (the
    minimum gap), the cut and a one-frame duration; no other cue moves."""
    k = track.index(cue_id)
    cue = track.cues[k]
    rate = track.rate
    gap = options.min_gap_frames
    want = to_frame(t, rate)
    s_f, e_f = to_frame(cue.start, rate), to_frame(cue.end, rate)
    if edge == "start":
        lo = to_frame(track.start, rate)
        if k:
            lo = max(lo, to_frame(track.cues[k - 1].end, rate) + gap)
        got = min(max(want, lo), e_f - 1)
        new = replace(cue, start=frame_time(got, rate), edited=True)
    elif edge == "end":
        hi = to_frame(track.end, rate)
        if k + 1 < len(track.cues):
            hi = min(hi, to_frame(track.cues[k + 1].start, rate) - gap)
        got = max(min(want, hi), s_f + 1)
        new = replace(cue, end=frame_time(got, rate), edited=True)
    else:
        raise CueTrackError(f"edge must be 'start' or 'end', not {edge!r}")
    result, problems = _replaced(track, k, [new], options)
    if got != want:
        problems = (CueProblem(cue_id, "clamped", f"{edge} held at {frame_time(got, rate):.3f} s "
                               f"(asked {frame_time(want, rate):.3f} s)"), *problems)
    return result, problems


def nudge_boundary(track: CueTrack, first_id: str, t: float, options: CueOptions = DEFAULT_OPTIONS
                   ) -> tuple[CueTrack, tuple[CueProblem, ...]]:
    """Move the boundary between `first_id` and the next cue: the first ends at `t` (snapped to a
    frame), the next starts the minimum gap later. Every other cue keeps its times."""
    k = track.index(first_id)
    if k + 1 >= len(track.cues):
        raise CueTrackError(f"cue {first_id} is the last cue: it shares no boundary")
    a, b = track.cues[k], track.cues[k + 1]
    rate = track.rate
    gap = options.min_gap_frames
    want = to_frame(t, rate)
    a_s, b_e = to_frame(a.start, rate), to_frame(b.end, rate)
    got = min(max(want, a_s + 1), b_e - 1 - gap)
    if got < a_s + 1:
        raise CueTrackError(f"cues {a.id} and {b.id} are too short to move their boundary")
    new_a = replace(a, end=frame_time(got, rate), edited=True)
    new_b = replace(b, start=frame_time(got + gap, rate), edited=True)
    cues = (*track.cues[:k], new_a, new_b, *track.cues[k + 2 :])
    result = replace(track, cues=cues)
    problems = check_cue(result, a.id, options) + check_cue(result, b.id, options)
    if got != want:
        problems = (CueProblem(a.id, "clamped", f"boundary held at {frame_time(got, rate):.3f} s"), *problems)
    return result, problems
