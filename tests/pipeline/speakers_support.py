"""A synthetic two-voice interview made with espeak-ng, with its reference speaker turns.

Used by the slow speaker tests and by `bench/diarization.py`; generated on the fly (never
committed). Needs the `espeak-ng` binary (Debian package `espeak-ng`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
INTERVIEWER_VOICE = "en-gb+f3"
INTERVIEWEE_VOICE = "en-us+m1"

# (speaker, text): "I" interviewer, "E" interviewee. The answers carry the project's themes so a
# real candidate builder has something to propose.
SCRIPT = (
    ("I", "Thank you for coming. How did you first meet the group?"),
    ("E", "I was nineteen and angry. A man at the mosque gave me videos and told me I was chosen. "
          "He said my life had no meaning without the cause. I believed him for three years."),
    ("I", "What made you doubt them?"),
    ("E", "They ordered us to attack a village where my cousin lived. I saw children crying in the "
          "street. That night I understood the leaders were lying to all of us."),
    ("I", "How did you leave?"),
    ("E", "I walked out at night and crossed the river alone. My mother hid me for a month. A social "
          "worker helped me find a job and a small flat in the city."),
    ("I", "How do you feel about it now?"),
    ("E", "I regret every day I gave them. Violence destroyed my family and it solved nothing. "
          "Now I talk to young people so they do not make my mistakes."),
    ("I", "What would you tell someone who is being recruited today?"),
    ("E", "Ask who profits from your anger. The recruiters never go to the front themselves. "
          "Walk away while you still can, and talk to someone you trust."),
)


@dataclass(frozen=True, slots=True)
class SyntheticInterview:
    """16 kHz mono samples, reference turns (start, end, "I"|"E"), and the script."""

    audio: np.ndarray
    turns: tuple[tuple[float, float, str], ...]
    script: tuple[tuple[str, str], ...]

    @property
    def duration(self) -> float:
        return len(self.audio) / RATE


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _say(text: str, voice: str, speed: int, workdir: Path) -> np.ndarray:
    out = workdir / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text],
                   check=True, capture_output=True)
    with wave.open(str(out), "rb") as f:
        rate = f.getframerate()
        pcm = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    if rate != RATE:
        from scipy.signal import resample_poly

        pcm = resample_poly(pcm, RATE, rate).astype(np.float32)
    # Trim espeak's leading/trailing silence so the reference turn is the speech itself.
    loud = np.flatnonzero(np.abs(pcm) > 0.01)
    return pcm[loud[0]: loud[-1] + 1] if len(loud) else pcm


def make_interview(script: tuple[tuple[str, str], ...] = SCRIPT, gap: float = 0.8, repeat: int = 1,
                   voices: tuple[str, str] = (INTERVIEWER_VOICE, INTERVIEWEE_VOICE)) -> SyntheticInterview:
    """Alternating question/answer audio; `repeat` concatenates the script that many times;
    `voices` are the espeak-ng voices of the interviewer and the interviewee."""
    rng = np.random.default_rng(16)
    parts: list[np.ndarray] = []
    turns: list[tuple[float, float, str]] = []
    t = 0.5
    parts.append(np.zeros(int(0.5 * RATE), dtype=np.float32))
    with tempfile.TemporaryDirectory() as tmp:
        cache: dict[tuple[str, str], np.ndarray] = {}
        for _ in range(repeat):
            for who, text in script:
                voice, speed = (voices[0], 165) if who == "I" else (voices[1], 150)
                if (who, text) not in cache:
                    cache[(who, text)] = _say(text, voice, speed, Path(tmp))
                speech = cache[(who, text)]
                parts.append(speech)
                turns.append((round(t, 3), round(t + len(speech) / RATE, 3), who))
                t += len(speech) / RATE
                pause = gap + float(rng.uniform(-0.2, 0.3))
                parts.append(np.zeros(int(pause * RATE), dtype=np.float32))
                t += int(pause * RATE) / RATE
    audio = np.concatenate(parts)
    # A little room noise so the VAD sees realistic silence, not digital zero.
    audio = audio + rng.normal(0, 0.002, len(audio)).astype(np.float32)
    return SyntheticInterview(audio.astype(np.float32), tuple(turns), script * repeat)


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE) -> Path:
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())
    return path


def spoken_interview_or_skip() -> SyntheticInterview:
    """The synthetic two-voice interview (one round of the script), or a skip without espeak-ng."""
    import pytest

    if not espeak_available():
        pytest.skip("espeak-ng not installed")
    return make_interview(repeat=1)
