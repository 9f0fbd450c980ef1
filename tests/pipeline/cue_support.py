"""Word timings for cue-track tests: realistic speech and hypothesis strategies."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from pipeline.cue_track import DEFAULT_OPTIONS, CueTrack
from pipeline.cues import CueOptions
from pipeline.frames import frame_rate, on_grid
from pipeline.records import Word

VOCAB = ("we", "went", "there", "at", "night.", "and", "then", "the", "police", "came", "to", "house,",
         "nobody", "knew", "what", "to", "do.", "Yes.", "brother", "border", "walked", "three", "days?",
         "I", "recruited", "promised", "money", "paradise!", "seventeen")
# One interview answer, shared by the cue and cue-track tests.
MONOLOGUE = (
    "When I joined the group I believed that they were fighting for justice, but within a few "
    "months I saw them kill people from my own village. Nobody could leave. I ran away at night "
    "with my brother and we walked for three days before we reached the border. Yes. "
    "The men who recruited me promised money, a wife and a place in paradise, and I was "
    "seventeen years old and I had nothing else. Today I tell young people that the group "
    "will use them and throw them away. If you are thinking about joining, talk to someone first."
)
FPS_CHOICES = (24, 25, 30, 29.97, "30000/1001", 50, 60)


@dataclass(frozen=True, slots=True)
class SpokenWord(Word):
    """A word with a speaker label, as diarisation will add to `Word`."""

    speaker: str | None = None


def speak(text: str, start: float = 0.0, sec_per_char: float = 0.055, pause: float = 0.05,
          sentence_pause: float = 0.4, speaker: str | None = None, unspaced: bool = False) -> list[Word]:
    """Word timings that grow with word length, with pauses after sentences (`unspaced`: one
    token per character, as Whisper gives Chinese or Japanese)."""
    words, t = [], start
    for token in (list(text) if unspaced else text.split()):
        d = 0.08 + sec_per_char * len(token)
        words.append(SpokenWord(t, t + d, token, 0.9, speaker) if speaker else Word(t, t + d, token, 0.9))
        t += d + (sentence_pause if token[-1] in ".?!。" else pause)
    return words


@st.composite
def word_lists(draw, min_size: int = 1, max_size: int = 60, speakers: bool = False) -> list[Word]:
    """Increasing, non-overlapping words with random lengths, pauses and (optionally) speakers."""
    n = draw(st.integers(min_size, max_size))
    t = draw(st.floats(0.0, 3.0))
    words: list[Word] = []
    speaker = "A"
    for _ in range(n):
        token = draw(st.sampled_from(VOCAB))
        duration = draw(st.floats(0.05, 0.9))
        gap = draw(st.sampled_from((0.0, 0.01, 0.05, 0.2, 0.6, 1.5)))
        if speakers and draw(st.integers(0, 6)) == 0:
            speaker = "B" if speaker == "A" else "A"
        t += gap
        words.append(SpokenWord(t, t + duration, token, 0.9, speaker) if speakers
                     else Word(round(t, 3), round(t + duration, 3), token, 0.9))
        t += duration
    return words


@st.composite
def cuts(draw, words: list[Word]) -> tuple[float, float]:
    """An in/out pair around some of the words (possibly cutting into them)."""
    total = words[-1].end + 1.0
    a = draw(st.floats(0.0, total - 0.2))
    b = draw(st.floats(a + 0.2, total))
    return a, b


def assert_track_ok(track: CueTrack, options: CueOptions = DEFAULT_OPTIONS) -> None:
    """Every invariant a stored track must hold."""
    rate = frame_rate(track.fps)
    gap = float(options.min_gap_frames / rate)
    assert on_grid(track.start, rate) and on_grid(track.end, rate)
    assert len({c.id for c in track.cues}) == len(track.cues)
    for cue in track.cues:
        assert track.start - 1e-9 <= cue.start < cue.end <= track.end + 1e-9, cue
        assert on_grid(cue.start, rate) and on_grid(cue.end, rate), cue
        assert cue.words[0] <= cue.words[1] and (cue.edited or cue.words[0] < cue.words[1])
    for a, b in zip(track.cues, track.cues[1:], strict=False):
        assert b.start - a.end >= gap - 1e-9, (a, b)  # no overlap, at least two frames apart
        assert a.words[1] <= b.words[0]  # word order preserved
