"""Records shared by every stage. Frozen, slotted, tuple fields; times are float seconds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One stream of a media container."""

    index: int
    kind: str  # "audio" | "video" | "subtitle" | "data"
    codec: str
    duration: float | None = None  # seconds
    sample_rate: int | None = None  # audio, Hz
    channels: int | None = None  # audio
    width: int | None = None  # video, pixels
    height: int | None = None  # video, pixels
    fps: float | None = None  # video, frames per second


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What probing a media file found. `duration` in seconds."""

    path: str
    sha256: str
    size: int  # bytes
    container: str
    duration: float
    streams: tuple[StreamInfo, ...]

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video"), None)


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word. `text` keeps the backend's leading space stripped."""

    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None  # diarization label ("S1", "S2"...); None before diarization


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None  # diarization label; segments never span a speaker change


@dataclass(frozen=True, slots=True)
class Translation:
    """Whisper's English translation, segments timed on the original's clock."""

    language: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Transcript:
    """One transcription of one media file, whichever backend made it."""

    language: str
    language_probability: float
    duration: float  # seconds of audio
    segments: tuple[Segment, ...]
    backend: str
    model: str
    translation: Translation | None = None
    threads: int = 0  # compute threads of the transcription job (0: not recorded)

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence built from word timestamps; `index` is its position in the transcript."""

    index: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    language: str = ""
    speaker: str | None = None  # diarization label; sentences never span a speaker change


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle cue: at most two lines, shown from `start` to `end` seconds."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class SentenceFlags:
    """Theme and risk labels of one sentence, with a score per taxonomy entry and reasons."""

    text: str
    labels: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    why: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    model_version: str = ""  # the flagger heads that made these flags ("" before issue 15)


@dataclass(frozen=True, slots=True)
class CredibilityWarning:
    """A sentence of the interview carrying a credibility risk; `start`/`end` in seconds.

    `risk` is the highest-scoring credibility risk of the sentence; `risks` lists all of them.
    """

    risk: str
    sentence_index: int
    start: float
    end: float
    text: str
    risks: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        minutes, seconds = divmod(int(self.start), 60)
        return f'{self.risk.replace("_", " ")} at {minutes}:{seconds:02d}: "{self.text}"'
