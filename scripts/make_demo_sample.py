"""Make the bundled demo interview once: synthetic voices reading our own script over a still.

Run from the repository root:  .venv/bin/python scripts/make_demo_sample.py

Reads   flows/data/demo/demo_interview.script.txt  (the words; CC0, written for this project)
Writes  flows/data/demo/demo_interview.mp4          (H.264 still + AAC speech, 640x360)
        flows/data/demo/demo_interview.mp4.yaml     (the inbox sidecar)
        flows/data/demo/demo_interview.ref.srt      (each spoken line with its time, for tests)
        flows/data/demo/portrait.png                (the generated picture)

Speech comes from flite (Debian package `flite`, clustergen voices that whisper transcribes
word for word) and falls back to espeak-ng. Every step is deterministic except the encoder's
byte layout, so re-running changes nothing a viewer could notice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "flows" / "data" / "demo"
SCRIPT = DEMO_DIR / "demo_interview.script.txt"
MEDIA_NAME = "demo_interview.mp4"
SAMPLE_RATE = 16000  # Hz: what flite's voices produce and what whisper consumes
WIDTH, HEIGHT = 640, 360

SIDECAR = """\
# Sidecar of the bundled demo interview (CC0). Keys read by the inbox scanner.
interviewee: Witness K
language: en
recorded: 2026-01-15
place: Synthetic studio (demo; the speaker is fictional)
"""


@dataclass(frozen=True, slots=True)
class Line:
    speaker: str  # "Q" interviewer, "A" interviewee
    text: str


@dataclass(frozen=True, slots=True)
class Voices:
    """Which synthesiser voice reads which speaker; speech rate as a duration stretch."""

    interviewer: str = "slt"
    interviewee: str = "rms"
    stretch: float = 1.08  # flite reads fast; >1 slows it towards interview pace


def read_script(path: Path = SCRIPT) -> list[Line]:
    """Spoken lines of the script; comments (#) and tags after '##' are not spoken."""
    lines: list[Line] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        raw = raw.split("##", 1)[0].strip()
        if not raw or raw.startswith("#"):
            continue
        speaker, _, text = raw.partition(":")
        if speaker not in ("Q", "A") or not text.strip():
            raise SystemExit(f"make_demo_sample: bad script line: {raw!r}")
        lines.append(Line(speaker, text.strip()))
    return lines


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise SystemExit(f"make_demo_sample: {path.name}: expected 16-bit PCM")
    audio = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        audio = audio.reshape(-1, channels).mean(axis=1)
    return audio, rate


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return audio
    # Linear interpolation is plenty for speech that only feeds the fallback path.
    n = int(round(len(audio) * SAMPLE_RATE / rate))
    return np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio).astype(np.float32)


def synthesise(line: Line, voices: Voices, workdir: Path, index: int) -> np.ndarray:
    """One line as float32 mono at SAMPLE_RATE."""
    out = workdir / f"line{index:02d}.wav"
    flite = shutil.which("flite")
    if flite:
        voice = voices.interviewer if line.speaker == "Q" else voices.interviewee
        argv = [flite, "-voice", voice, "--setf", f"duration_stretch={voices.stretch}",
                "-t", line.text, "-o", str(out)]
    else:
        espeak = shutil.which("espeak-ng")
        if not espeak:
            raise SystemExit("make_demo_sample: needs flite or espeak-ng (apt-get install flite)")
        voice = "en-us+f3" if line.speaker == "Q" else "en-us+m3"
        argv = [espeak, "-v", voice, "-s", "145", "-w", str(out), "--", line.text]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    audio, rate = _read_wav(out)
    return _resample(audio, rate)


def assemble(
    lines: list[Line], voices: Voices, workdir: Path
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The whole interview with natural pauses; returns audio and each line's (start, end) s."""
    rng = np.random.default_rng(7)
    chunks: list[np.ndarray] = [np.zeros(int(0.8 * SAMPLE_RATE), np.float32)]
    spans: list[tuple[float, float]] = []
    t = 0.8
    for i, line in enumerate(lines):
        speech = synthesise(line, voices, workdir, i)
        peak = float(np.max(np.abs(speech))) or 1.0
        speech = speech * (0.7 / peak)
        chunks.append(speech)
        spans.append((t, t + len(speech) / SAMPLE_RATE))
        t += len(speech) / SAMPLE_RATE
        # Longer pause after a question and between answers: candidates pad into silence.
        nxt = lines[i + 1].speaker if i + 1 < len(lines) else ""
        pause = 0.9 if line.speaker == "Q" else (1.2 if nxt == "A" else 1.0)
        chunks.append(np.zeros(int(pause * SAMPLE_RATE), np.float32))
        t += pause
    audio = np.concatenate(chunks)
    # A faint room tone: real interviews are never digitally silent between sentences.
    audio = audio + rng.normal(0.0, 0.0015, audio.shape).astype(np.float32)
    return np.clip(audio, -1.0, 1.0), spans


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (audio * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


def draw_portrait(path: Path) -> None:
    """A dim studio backdrop with an anonymous head-and-shoulders silhouette (no real face)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    y = np.linspace(0.0, 1.0, HEIGHT)[:, None]
    x = np.linspace(-1.0, 1.0, WIDTH)[None, :]
    glow = np.exp(-((x + 0.15) ** 2 / 0.35 + (y - 0.35) ** 2 / 0.25))  # soft key light behind
    base = np.stack([38 + 50 * glow + 10 * y, 48 + 60 * glow + 8 * y, 70 + 70 * glow], axis=-1)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))

    shape = Image.new("L", (WIDTH, HEIGHT), 0)
    d = ImageDraw.Draw(shape)
    cx = WIDTH // 2 + 40
    d.ellipse((cx - 62, 78, cx + 62, 232), fill=255)  # head
    d.rectangle((cx - 28, 210, cx + 28, 262), fill=255)  # neck
    d.rounded_rectangle((cx - 175, 250, cx + 175, HEIGHT + 80), radius=90, fill=255)  # shoulders
    shape = shape.filter(ImageFilter.GaussianBlur(2))
    silhouette = Image.new("RGB", (WIDTH, HEIGHT), (14, 16, 22))
    img = Image.composite(silhouette, img, shape)

    d = ImageDraw.Draw(img)
    font_path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    font = ImageFont.truetype(str(font_path), 14) if font_path.exists() else ImageFont.load_default()
    d.text((14, 12), "counterclips demo \u00b7 synthetic voice \u00b7 fictional testimony",
           fill=(190, 196, 210), font=font)
    img.save(path, optimize=True)


def encode(still: Path, wav: Path, out: Path, duration: float) -> None:
    import imageio_ffmpeg

    tmp = out.with_name(f".{out.name}.part.mp4")
    argv = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-loglevel", "error",
            "-loop", "1", "-framerate", "15", "-i", str(still), "-i", str(wav),
            "-map", "0:v", "-map", "1:a",
            # -shortest overshoots with a looped still; an explicit length keeps streams equal.
            "-t", f"{duration:.3f}",
            # A still needs almost no bits: stillimage tuning and long GOPs keep it ~100 kB.
            "-c:v", "libx264", "-preset", "slow", "-tune", "stillimage", "-crf", "26",
            "-g", "150", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-ac", "1",
            "-movflags", "+faststart", "-metadata", "comment=CC0 counterclips demo sample",
            str(tmp)]
    subprocess.run(argv, check=True)
    os.replace(tmp, out)


def _srt_time(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def write_reference(lines: list[Line], spans: list[tuple[float, float]], path: Path) -> None:
    blocks = [f"{i}\n{_srt_time(s)} --> {_srt_time(e)}\n{ln.speaker}: {ln.text}\n"
              for i, (ln, (s, e)) in enumerate(zip(lines, spans, strict=True), start=1)]
    path.write_text("\n".join(blocks), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="output directory")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    lines = read_script()
    with tempfile.TemporaryDirectory(prefix="counterclips-demo-") as tmp:
        work = Path(tmp)
        audio, spans = assemble(lines, Voices(), work)
        wav = work / "interview.wav"
        write_wav(wav, audio)
        still = out / "portrait.png"
        draw_portrait(still)
        encode(still, wav, out / MEDIA_NAME, len(audio) / SAMPLE_RATE)
    (out / f"{MEDIA_NAME}.yaml").write_text(SIDECAR, encoding="utf-8")
    write_reference(lines, spans, out / "demo_interview.ref.srt")
    size = (out / MEDIA_NAME).stat().st_size
    print(f"wrote {out / MEDIA_NAME}: {len(audio) / SAMPLE_RATE:.1f} s, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
