"""Source tracks for translation tests, shaped like the per-version cue model (TimedCue/CueTrack)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True, slots=True)
class SrcCue:
    id: str
    start: float
    end: float
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SrcTrack:
    language: str
    cues: tuple[SrcCue, ...]


def source(*texts: str, language: str = "en", step: float = 3.0) -> SrcTrack:
    """A source track with one 2.5 s cue per text, ids c1, c2, ..."""
    return SrcTrack(
        language,
        tuple(
            SrcCue(f"c{k}", k * step, k * step + 2.5, tuple(t.split("\n"))) for k, t in enumerate(texts, 1)
        ),
    )


class UpperEngine:
    """A stand-in engine for fast unit tests (the real one is tested with Apertium)."""

    name = "upper"

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def pairs(self) -> tuple[tuple[str, str], ...]:
        return (("en", "es"),)

    def translate(self, texts, source, target):  # type: ignore[no-untyped-def]
        self.calls.append(tuple(texts))
        return tuple(t.upper() for t in texts)


# Cue text: letters of several scripts (Arabic, Hebrew, CJK, Cyrillic), digits, punctuation and
# every markup character; no control, format or line-separator characters.
_ALPHABET = st.characters(
    categories=("L", "M", "N", "P", "S", "Zs"),
    exclude_characters="\u2028\u2029\u200e\u200f\u2060\ufeff",
) | st.sampled_from(list("<>&\"'{}\\/-->;#") + list("تركتالجماعة") + list("שלום") + list("我离开了"))
cue_line = st.text(_ALPHABET, min_size=1, max_size=18)
cue_lines = st.lists(cue_line, min_size=1, max_size=2)
cue_id = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_."), min_size=1, max_size=12)


@st.composite
def source_and_texts(draw, language: str = "en"):  # type: ignore[no-untyped-def]
    """A source track with random ids and millisecond times, and a translation per cue."""
    ids = draw(st.lists(cue_id, min_size=1, max_size=6, unique=True))
    t = 0.0
    cues = []
    texts = []
    for i in ids:
        t += draw(st.integers(0, 5000)) / 1000
        length = draw(st.integers(800, 7000)) / 1000
        cues.append(SrcCue(i, round(t, 3), round(t + length, 3), tuple(draw(cue_lines))))
        texts.append(draw(cue_lines))
        t = round(t + length, 3)
    return SrcTrack(language, tuple(cues)), texts
