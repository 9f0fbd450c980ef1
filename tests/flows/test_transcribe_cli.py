"""`counterclips transcribe` end to end, in a subprocess as a user would run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.whisper_weights import packaged_parts
from tests.conftest import REPO, TEST_DATA

JFK = TEST_DATA / "en_jfk_inaugural.flac"
FR = TEST_DATA / "fr_read_sentence_picovoice.wav"
needs_packaged = pytest.mark.skipif(packaged_parts() is None, reason="packaged whisper base not installed")


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "transcribe", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=600,
    )


def _srt_text(path: Path) -> str:
    return " ".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and "-->" not in line and not line.isdigit()
    )


@pytest.mark.slow
@needs_packaged
def test_transcribe_writes_json_and_subtitles(tmp_path):
    out = tmp_path / "out dir"
    res = cli(JFK, "--out", out)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    stem = "en_jfk_inaugural"
    data = json.loads((out / f"{stem}.transcript.json").read_text(encoding="utf-8"))
    assert data["source"]["path"] == str(JFK)
    assert len(data["source"]["sha256"]) == 64 and data["source"]["duration"] == pytest.approx(11.0, abs=0.1)
    assert (data["language"], data["backend"], data["model"]) == ("en", "faster-whisper", "base")
    seg = data["segments"][0]
    assert {"start", "end", "text", "words"} <= set(seg)
    assert set(seg["words"][0]) == {"start", "end", "text", "probability", "speaker"}
    assert "translation" not in data
    srt, vtt = out / f"{stem}.en.srt", out / f"{stem}.en.vtt"
    assert "ask not what your country" in _srt_text(srt).replace("\n", " ")
    assert vtt.read_text(encoding="utf-8").startswith("WEBVTT")
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{stem}.transcript.json", srt.name, vtt.name])


@pytest.mark.slow
@needs_packaged
def test_translate_writes_the_english_pair_too(tmp_path):
    media = tmp_path / "-leading dash é.wav"  # odd name on purpose; `--` keeps it a path
    shutil.copyfile(FR, media)
    res = cli("--translate", "--language", "fr", "--out", tmp_path / "o", "--", media)
    assert res.returncode == 0, res.stderr
    stem = media.stem
    data = json.loads((tmp_path / "o" / f"{stem}.transcript.json").read_text(encoding="utf-8"))
    assert data["language"] == "fr" and data["translation"]["language"] == "en"
    assert data["translation"]["segments"]
    for name in (f"{stem}.fr.srt", f"{stem}.fr.vtt", f"{stem}.en.srt", f"{stem}.en.vtt"):
        assert (tmp_path / "o" / name).stat().st_size > 0
    assert "consul" in _srt_text(tmp_path / "o" / f"{stem}.en.srt").lower()


def _write_silence(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(16000 * 2, "<i2").tobytes())
    return path


def _bad(tmp: Path, case: str) -> tuple[Path, str]:
    if case == "missing":
        return tmp / "gone.mp4", "no such file"
    if case == "empty":
        (tmp / "empty.mp3").write_bytes(b"")
        return tmp / "empty.mp3", "empty"
    if case == "not media":
        (tmp / "notes 'q'.mov").write_text("hello\n")
        return tmp / "notes 'q'.mov", "not a"
    if case == "truncated":
        data = JFK.read_bytes()
        (tmp / "cut.flac").write_bytes(data[: len(data) // 3])
        return tmp / "cut.flac", "truncated"
    if case == "silent":
        return _write_silence(tmp / "quiet room.wav"), "silent"
    if case == "no audio":
        import imageio_ffmpeg

        path = tmp / "mute.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-nostdin",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x64:rate=5",
                "-t",
                "1",
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
        )
        return path, "no audio stream"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing", "empty", "not media", "truncated", "silent", "no audio"])
def test_bad_input_exits_non_zero_with_one_line(tmp_path, case):
    path, cause = _bad(tmp_path, case)
    res = cli("--out", tmp_path / "out", "--", path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("counterclips: error: ")
    assert str(path) in lines[0] and cause in lines[0].lower()
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow
@needs_packaged
def test_progress_bar_on_a_terminal(tmp_path):
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "transcribe", str(JFK), "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=REPO,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=600) == 0
    os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "transcribing" in shown and "100%" in shown


def test_unknown_language_is_one_line(tmp_path):
    res = cli("--language", "klingon", "--out", tmp_path, JFK)
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert "unknown language 'klingon'" in res.stderr


def test_missing_model_path_is_one_line(tmp_path):
    res = cli("--model", tmp_path / "nope" / "model.pt", JFK)
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "model path not found" in res.stderr
