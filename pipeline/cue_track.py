"""A version's subtitles as a track of timed cues per language, built from word timestamps.

The track is the stored truth for a clip's subtitles: the page edits it, exports write it, and
translated tracks point at its cue ids. Rules:

- Cues are cut by `pipeline.cues.build_cues` (42x2, CPS 17/20, 0.83-7 s, 2-frame gap, phrase
  breaks, no split words, right-to-left text kept in logical order), one speaker turn at a time.
  Two short turns may share a cue, each on its own line with the usual leading "- "; a turn of
  one or two words too short to read alone joins a neighbouring cue (`_absorb_fragments`).
- Every time sits on the source's frame grid (`pipeline.frames`), and every cue lies inside the
  clip's [start, end]: times are clamped, a cue with no frame left is dropped and reported.
- A cue's id is "w<index>" of its first word in `track_words(words)` (the cleaned transcript
  words), so re-deriving a track after a trim keeps the ids of cues that start on the same word.
- `words` on a cue is the half-open range of those word indices it shows. Trimming keeps a
  manually edited cue only while all of its words are still inside the cut.

Records are frozen; every operation returns a new track. Times are float seconds, source clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from pipeline.cues import CueOptions, build_cues, display_width, reading_chars, wrap_words
from pipeline.errors import SubtitleError
from pipeline.frames import fps_text, frame_rate, frame_time, to_frame
from pipeline.records import Cue, Word
from pipeline.sentences import clean_words

DASH = "- "
DEFAULT_OPTIONS = CueOptions()


class CueTrackError(SubtitleError):
    """A cue track or a cue edit is invalid (unknown cue, nothing to split, bad stored data)."""


@dataclass(frozen=True, slots=True)
class TimedCue:
    """One cue of a track: shown from `start` to `end` seconds (source clock, on frames).

    id: stable name ("w<first word index>"); translated cues and comments refer to it.
    edited: a person changed its text or times; trimming keeps it while its words stay inside.
    words: half-open range of indices into `track_words(...)` that the cue shows; empty only
        for a part split off an edited cue with fewer words than parts (kept by its times).
    speakers: speakers in the order they talk in this cue (empty when unknown).
    """

    id: str
    start: float
    end: float
    lines: tuple[str, ...]
    edited: bool = False
    words: tuple[int, int] = (0, 0)
    speakers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def as_cue(self) -> Cue:
        return Cue(self.start, self.end, self.lines)


@dataclass(frozen=True, slots=True)
class CueTrack:
    """The cues of one language for one clip version, inside [start, end] (the clip's in/out).

    fps: the source's exact frame rate as text ("25", "30000/1001"); all times sit on its grid.
    """

    language: str
    start: float
    end: float
    fps: str
    cues: tuple[TimedCue, ...] = ()

    @property
    def rate(self) -> Fraction:
        return frame_rate(self.fps)

    def index(self, cue_id: str) -> int:
        for k, cue in enumerate(self.cues):
            if cue.id == cue_id:
                return k
        raise CueTrackError(f"no cue {cue_id!r} in the {self.language or 'untagged'} track")

    def cue(self, cue_id: str) -> TimedCue:
        return self.cues[self.index(cue_id)]

    def as_cues(self) -> tuple[Cue, ...]:
        """Plain cues (source clock) for `pipeline.subtitles` writers and the renderer."""
        return tuple(c.as_cue() for c in self.cues)


@dataclass(frozen=True, slots=True)
class CueProblem:
    """One broken limit of one cue, for display next to it.

    kind: empty | lines | line_length | cps | duration | gap | overlap | outside | clamped.
    """

    cue_id: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class DroppedEdit:
    """A manual edit that a trim could not keep: which cue, what it said, and why."""

    cue_id: str
    start: float
    end: float
    text: str
    reason: str


# ---------------------------------------------------------------------------------------------
# Words


def _nonspace(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def speaker_of(word: Word) -> str | None:
    """The word's speaker label, when diarisation set one (`Word.speaker`, optional)."""
    value = getattr(word, "speaker", None)
    return str(value) if value not in (None, "") else None


def track_words(words: Sequence[Word]) -> tuple[Word, ...]:
    """The transcript's words as cues index them: `clean_words` (punctuation attached, times
    monotonic), each keeping the speaker of the original word most of its characters came from."""
    cleaned = clean_words(words)
    if not any(speaker_of(w) for w in words):
        return tuple(cleaned)
    owners: list[str | None] = []
    for w in words:
        owners.extend([speaker_of(w)] * _nonspace(w.text))
    out, pos = [], 0
    for w in cleaned:
        n = _nonspace(w.text)
        labels = [s for s in owners[pos : pos + n] if s]
        pos += n
        speaker = max(set(labels), key=labels.count) if labels else None
        out.append(_with_speaker(w, speaker))
    return tuple(out)


def _with_speaker(word: Word, speaker: str | None) -> Word:
    if speaker_of(word) == speaker:
        return word
    try:
        return replace(word, speaker=speaker)  # type: ignore[call-arg]
    except TypeError:  # a Word record without the speaker field: carry it on a subclass instance
        return _SpokenWord(word.start, word.end, word.text, word.probability, speaker)


@dataclass(frozen=True, slots=True)
class _SpokenWord(Word):
    speaker: str | None = None


def words_inside(words: Sequence[Word], start: float, end: float) -> list[int]:
    """Indices of the words whose middle lies inside [start, end] (as `subtitles.words_in`)."""
    return [i for i, w in enumerate(words) if start <= (w.start + w.end) / 2 <= end]


def _runs(indices: Sequence[int]) -> list[list[int]]:
    """Contiguous runs of indices."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _turns(words: Sequence[Word], run: list[int]) -> list[list[int]]:
    """A run of word indices cut where the speaker changes (unlabelled words join the turn)."""
    turns: list[list[int]] = []
    current: str | None = None
    for i in run:
        s = speaker_of(words[i])
        if turns and (s is None or current is None or s == current):
            turns[-1].append(i)
            current = current or s
        else:
            turns.append([i])
            current = s
    return turns


# ---------------------------------------------------------------------------------------------
# Building


def _options(options: CueOptions, rate: Fraction, language: str) -> CueOptions:
    return replace(options, fps=float(rate), language=language or options.language)


def build_track(words: Sequence[Word], start: float, end: float, fps: float | Fraction | str,
                language: str = "", options: CueOptions = DEFAULT_OPTIONS) -> CueTrack:
    """Cues for the words inside the cut [start, end] (snapped to the source's frames)."""
    track, _ = _derive_track(track_words(words), start, end, fps, language, options, ())
    return track


def _empty(start: float, end: float, rate: Fraction, language: str) -> CueTrack:
    if not (math.isfinite(start) and math.isfinite(end)):
        raise CueTrackError("the cut's in and out points must be finite numbers")
    # Outwards to frames, so a word that starts at the in point or ends at the out point stays whole.
    in_f, out_f = to_frame(start, rate, "floor"), to_frame(end, rate, "ceil")
    if in_f < 0:
        raise CueTrackError(f"the in point {start:.3f} s is before the start of the source")
    if out_f <= in_f:
        raise CueTrackError(f"the cut {start:.3f}-{end:.3f} s holds no frame")
    return CueTrack(language, frame_time(in_f, rate), frame_time(out_f, rate), fps_text(rate))


def _derive_track(tw: Sequence[Word], start: float, end: float, fps: float | Fraction | str,
                  language: str, options: CueOptions, pinned: Sequence[TimedCue]
                  ) -> tuple[CueTrack, list[TimedCue]]:
    """A track over [start, end]: `pinned` cues as they are, new cues for every other word
    inside. Returns the track and the cues that found no frame (dropped)."""
    rate = frame_rate(fps)
    base = _empty(start, end, rate, language)
    opts = _options(options, rate, language)
    taken = {i for c in pinned for i in range(*c.words)}
    free = [i for i in words_inside(tw, base.start, base.end) if i not in taken]
    derived: list[TimedCue] = []
    for run in _runs(free):
        # Dashes join turns of one run only: a pinned cue may sit between two runs.
        turns = [cue for turn in _turns(tw, run) for cue in _cues_for(tw, turn, opts)]
        derived.extend(_absorb_fragments(_dash_short_turns(turns, opts), tw, opts))
    return _settle(base, [*pinned, *derived], {c.id for c in pinned}, opts)


def _cues_for(tw: Sequence[Word], turn: list[int], options: CueOptions) -> list[TimedCue]:
    run_words = [tw[i] for i in turn]
    cues = build_cues(run_words, options)
    speaker = next((s for s in map(speaker_of, run_words) if s), None)
    out, u = [], 0
    for cue in cues:
        # Cues never split a word, so each cue's characters are whole words of the run.
        need, first = _nonspace(cue.text), u
        while need > 0 and u < len(run_words):
            need -= _nonspace(run_words[u].text)
            u += 1
        if u == first:
            continue  # a cue without characters: nothing to show
        a, b = turn[first], turn[u - 1] + 1
        out.append(TimedCue(f"w{a}", cue.start, cue.end, cue.lines, False, (a, b),
                            (speaker,) if speaker else ()))
    return out


def _dash_short_turns(cues: list[TimedCue], options: CueOptions) -> list[TimedCue]:
    """Join two neighbouring one-line cues of different speakers into one dashed cue when one of
    them is too short to read on its own ("- Did you go?" / "- Yes.")."""
    out: list[TimedCue] = []
    for k, cue in enumerate(cues):
        prev = out[-1] if out else None
        until = cues[k + 1].start - options.min_gap if k + 1 < len(cues) else math.inf
        if prev is not None and _dashable(prev, cue, options, until):
            out[-1] = TimedCue(prev.id, prev.start, cue.end, (DASH + prev.lines[0], DASH + cue.lines[0]),
                               False, (prev.words[0], cue.words[1]), (*prev.speakers, *cue.speakers))
        else:
            out.append(cue)
    return out


def _starved(cue: TimedCue, options: CueOptions, until: float = math.inf) -> bool:
    """Too short to read, when it must end by `until` (turns are built apart, so the end of one
    turn's last cue may run into the next turn)."""
    duration = min(cue.end, until) - cue.start
    return duration < options.min_duration or reading_chars(cue.text) > options.max_cps * duration


def _dashable(a: TimedCue, b: TimedCue, options: CueOptions, until: float) -> bool:
    if len(a.speakers) != 1 or len(b.speakers) != 1 or a.speakers == b.speakers:
        return False
    if len(a.lines) != 1 or len(b.lines) != 1 or a.lines[0].startswith(DASH):
        return False
    room = options.max_line_chars - len(DASH)
    return (display_width(a.lines[0]) <= room and display_width(b.lines[0]) <= room
            and b.start - a.end <= options.close_gap and b.end - a.start <= options.max_duration
            and (_starved(a, options, b.start - options.min_gap) or _starved(b, options, until)))


FRAGMENT_WORDS = 2  # a turn this short that cannot be read on its own joins a neighbour


def _absorb_fragments(cues: list[TimedCue], tw: Sequence[Word], options: CueOptions) -> list[TimedCue]:
    """Join a one- or two-word cue that is still too short to read (after dashing) to the cue
    before it, else after it, when the words fit one cue. Such a turn is mostly diarisation
    noise ("And" flashed for 0.07 s between two speakers); a longer turn keeps its own cue."""
    out = list(cues)
    k = 0
    while k < len(out):
        cue = out[k]
        until = out[k + 1].start - options.min_gap if k + 1 < len(out) else math.inf
        small = cue.words[1] - cue.words[0] <= FRAGMENT_WORDS and len(cue.speakers) <= 1
        joined = None
        if small and _starved(cue, options, until):
            for a, b in ((k - 1, k), (k, k + 1)):
                if a >= 0 and b < len(out):
                    joined = _joined(out[a], out[b], tw, options)
                    if joined is not None:
                        out[a : b + 1] = [joined]
                        k = a
                        break
        if joined is None:
            k += 1
    return out


def _joined(a: TimedCue, b: TimedCue, tw: Sequence[Word], options: CueOptions) -> TimedCue | None:
    if any(line.startswith(DASH) for line in (*a.lines, *b.lines)) or b.end - a.start > options.max_duration:
        return None
    wrapped = wrap_words([tw[i].text for i in range(a.words[0], b.words[1])], options.language, options)
    if wrapped is None:
        return None
    speakers = tuple(dict.fromkeys((*a.speakers, *b.speakers)))
    return TimedCue(a.id, a.start, b.end, wrapped[0], False, (a.words[0], b.words[1]), speakers)


def _settle(base: CueTrack, cues: Sequence[TimedCue], fixed: set[str], options: CueOptions
            ) -> tuple[CueTrack, list[TimedCue]]:
    """Cues on frames, inside [start, end], in order and at least the minimum gap apart.

    Where two cues come too close, the one not in `fixed` gives way (the earlier one when
    neither is fixed, as the cue layout does). A cue left without a frame is dropped.
    """
    rate = base.rate
    in_f, out_f = to_frame(base.start, rate), to_frame(base.end, rate)
    gap = options.min_gap_frames
    close = round(options.close_gap * rate)
    longest = math.floor(options.max_duration * rate)
    items = []
    for c in sorted(cues, key=lambda c: (c.start, c.end)):
        s = max(to_frame(c.start, rate), in_f)
        e = min(to_frame(c.end, rate), out_f)
        items.append([s, e, c])
    for k in range(1, len(items)):
        a, b = items[k - 1], items[k]
        if b[0] - a[1] < gap:
            if a[2].id in fixed and b[2].id not in fixed:
                b[0] = a[1] + gap
            else:
                a[1] = b[0] - gap
        elif a[2].id not in fixed and b[0] - a[1] < close and b[0] - gap - a[0] <= longest:
            a[1] = b[0] - gap  # chain closely following cues, as the cue layout does
    kept, dropped = [], []
    for s, e, c in items:
        if e - s < 1:
            dropped.append(c)
        else:
            kept.append(replace(c, start=frame_time(s, rate), end=frame_time(e, rate)))
    return replace(base, cues=tuple(kept)), dropped


# ---------------------------------------------------------------------------------------------
# Trimming


def retrim(track: CueTrack, words: Sequence[Word], new_start: float, new_end: float,
           fps: float | Fraction | str | None = None, options: CueOptions = DEFAULT_OPTIONS
           ) -> tuple[CueTrack, tuple[DroppedEdit, ...]]:
    """The track for a new cut: cues re-derived from the words inside [new_start, new_end].

    Manually edited cues whose words all stay inside are kept with their text and times (clamped
    to the cut); the others are returned as dropped edits, and their words that are still inside
    get fresh cues.
    """
    tw = track_words(words)
    rate = frame_rate(fps if fps is not None else track.fps)
    probe = _empty(new_start, new_end, rate, track.language)
    inside = set(words_inside(tw, probe.start, probe.end))
    kept: list[TimedCue] = []
    dropped: list[DroppedEdit] = []
    for cue in track.cues:
        if not cue.edited:
            continue
        a, b = cue.words
        if b > len(tw):
            dropped.append(_dropped(cue, "its words are not in this transcript"))
        elif b <= a and not probe.start <= cue.start < cue.end <= probe.end:
            dropped.append(_dropped(cue, "it lies outside the new cut"))  # text without words
        elif not all(i in inside for i in range(a, b)):
            dropped.append(_dropped(cue, "some of its words are outside the new cut"))
        else:
            kept.append(cue)
    new, lost = _derive_track(tw, new_start, new_end, rate, track.language, options, kept)
    dropped += [_dropped(c, "no frame left for it inside the cut") for c in lost if c.edited]
    return new, tuple(dropped)


def _dropped(cue: TimedCue, reason: str) -> DroppedEdit:
    return DroppedEdit(cue.id, cue.start, cue.end, cue.text, reason)


# ---------------------------------------------------------------------------------------------
# Checking


def check_cue(track: CueTrack, cue_id: str, options: CueOptions = DEFAULT_OPTIONS) -> tuple[CueProblem, ...]:
    """Every broken limit of one cue, named, for display next to it (empty when all hold)."""
    k = track.index(cue_id)
    cue = track.cues[k]
    prev = track.cues[k - 1] if k else None
    nxt = track.cues[k + 1] if k + 1 < len(track.cues) else None
    rate = track.rate
    gap_s = options.min_gap_frames / rate
    eps = 1e-6
    out: list[CueProblem] = []

    def add(kind: str, message: str) -> None:
        out.append(CueProblem(cue.id, kind, message))

    if not cue.lines or any(not line.strip() for line in cue.lines):
        add("empty", "has an empty line")
    if len(cue.lines) > options.max_lines:
        add("lines", f"{len(cue.lines)} lines, at most {options.max_lines}")
    for n, line in enumerate(cue.lines, 1):
        width = display_width(line)
        if width > options.max_line_chars and len(line.split()) > 1:
            add("line_length", f"line {n} is {width} characters, at most {options.max_line_chars}")
    duration = cue.end - cue.start
    if duration < options.min_duration - eps:
        add("duration", f"shown {duration:.2f} s, at least {options.min_duration:g} s")
    if duration > options.max_duration + eps:
        add("duration", f"shown {duration:.2f} s, at most {options.max_duration:g} s")
    if duration > 0:
        cps = reading_chars(cue.text) / duration
        if cps > options.max_cps + 0.05:
            add("cps", f"reading speed {cps:.1f} characters/s, at most {options.max_cps:g}")
    for other in (prev, nxt):
        if other is None:
            continue
        first, second = (other, cue) if other is prev else (cue, other)
        space = second.start - first.end
        if space < -eps:
            add("overlap", f"overlaps cue {other.id} by {-space:.3f} s")
        elif space < float(gap_s) - eps:
            add("gap", f"{space:.3f} s from cue {other.id}, at least {options.min_gap_frames} frames")
    if cue.start < track.start - eps or cue.end > track.end + eps:
        add("outside", f"{cue.start:.3f}-{cue.end:.3f} s is outside the cut "
                       f"{track.start:.3f}-{track.end:.3f} s")
    return tuple(out)


def check_track(track: CueTrack, options: CueOptions = DEFAULT_OPTIONS) -> tuple[CueProblem, ...]:
    """The problems of every cue, in track order."""
    return tuple(p for c in track.cues for p in check_cue(track, c.id, options))


def changed_cues(old: CueTrack, new: CueTrack) -> tuple[str, ...]:
    """Ids of `old` cues that are gone from `new` or changed there (times, lines or words), in
    `old` order: the source cues whose translations need a look after a trim or an edit."""
    after = {c.id: c for c in new.cues}
    return tuple(c.id for c in old.cues if after.get(c.id) != c)
