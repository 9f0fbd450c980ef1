"""Media in: probing, decoding, hashing and the one-line error for every bad input."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.atomic import file_sha256
from pipeline.errors import MediaError
from pipeline.media import check_audible, decode_audio, load_audio, probe, sound_seconds
from tests.conftest import TEST_DATA, shared_media_file

JFK = TEST_DATA / "en_jfk_inaugural.flac"


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", *args],
                   check=True, capture_output=True)


def _write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_probe_flac_reports_streams_duration_and_sha256():
    info = probe(JFK)
    assert info.container == "flac"
    assert info.duration == pytest.approx(11.0, abs=0.1)
    assert info.size == JFK.stat().st_size
    assert info.sha256 == hashlib.sha256(JFK.read_bytes()).hexdigest() == file_sha256(JFK)
    assert info.audio is not None and info.audio.sample_rate == 44100 and info.audio.channels == 2
    assert info.video is None
    assert Path(info.path).is_absolute()


def test_decode_is_16k_mono_float32_in_range():
    audio = decode_audio(JFK)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size / 16000 == pytest.approx(11.0, abs=0.05)
    assert np.abs(audio).max() <= 1.0
    assert sound_seconds(audio) > 5.0


def test_probe_video_container_has_both_streams():
    path = shared_media_file("vid_en_talkinghead_katiehill.mp4")
    info = probe(path)
    assert info.video is not None and info.video.width == 512 and info.video.fps == pytest.approx(25.0)
    assert info.audio is not None and info.audio.sample_rate == 16000
    assert info.duration == pytest.approx(8.0, abs=0.2)


@pytest.mark.parametrize("name", ["en_4spk_ami_meeting_tst00.wav", "en_dialogue_gloria.mp3"])
def test_hard_but_valid_audio_decodes(name):
    # 32-bit float WAV and a quiet (-42 dBFS) recording are valid speech, not errors.
    audio = load_audio(shared_media_file(name))
    assert audio.size > 16000 * 10


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm", ".mov", ".m4a", ".mp3", ".wav"])
def test_common_containers_decode(tmp_path, suffix):
    src = tmp_path / "src.wav"
    _write_wav(src, 0.3 * np.sin(np.linspace(0, 2 * np.pi * 440 * 2, 32000)))
    out = tmp_path / f"tone{suffix}"
    codecs = {".webm": ["-c:a", "libopus"], ".mp3": ["-c:a", "libmp3lame"], ".wav": []}
    codec = codecs.get(suffix, ["-c:a", "aac"])
    _ffmpeg("-i", str(src), *codec, str(out))
    info = probe(out)
    assert info.audio is not None
    assert decode_audio(out).size / 16000 == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("name", ["with space.flac", "quote's \"double\".flac", "-leading-dash.flac",
                                  "nön-ÄSCII_صوت_声.flac", "colon: here.flac", "file:prefix.flac"])
def test_odd_file_names_just_work(tmp_path, name):
    path = tmp_path / name
    shutil.copyfile(JFK, path)
    assert probe(path).duration == pytest.approx(11.0, abs=0.1)
    assert load_audio(path).size > 16000 * 10


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, words the one-line message must contain)."""
    cases: dict[str, tuple[Path, str]] = {}
    cases["missing"] = (tmp / "nowhere.wav", "no such file")
    (tmp / "empty.wav").write_bytes(b"")
    cases["empty"] = (tmp / "empty.wav", "empty")
    (tmp / "notes.mp4").write_text("this is a text file, not a video\n")
    cases["text"] = (tmp / "notes.mp4", "not a")
    (tmp / "noise.mp3").write_bytes(np.random.default_rng(0).bytes(4000))
    cases["random"] = (tmp / "noise.mp3", "not a")
    (tmp / "folder.wav").mkdir()
    cases["directory"] = (tmp / "folder.wav", "directory")
    data = JFK.read_bytes()
    (tmp / "cut.flac").write_bytes(data[: len(data) // 4])
    cases["truncated flac"] = (tmp / "cut.flac", "truncated")
    wav = shared_media_file("fr_read_sentence_picovoice.wav").read_bytes()
    (tmp / "cut.wav").write_bytes(wav[: len(wav) // 2])
    cases["truncated wav"] = (tmp / "cut.wav", "truncated")
    _write_wav(tmp / "silent.wav", np.zeros(16000 * 3))
    cases["silence"] = (tmp / "silent.wav", "silent")
    _write_wav(tmp / "hiss.wav", np.random.default_rng(1).normal(0, 1e-4, 16000 * 3))
    cases["faint hiss"] = (tmp / "hiss.wav", "silent")
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", "-pix_fmt", "yuv420p",
            "-c:v", "libx264", str(tmp / "mute video.mp4"))
    cases["no audio"] = (tmp / "mute video.mp4", "no audio stream")
    _ffmpeg("-i", str(JFK), "-t", "4", "-c:a", "aac", str(tmp / "full.m4a"))
    m4a = (tmp / "full.m4a").read_bytes()  # moov atom at the end: cutting it leaves no index
    (tmp / "cut.m4a").write_bytes(m4a[: len(m4a) // 2])
    cases["truncated m4a"] = (tmp / "cut.m4a", "truncated")
    return cases


BAD = ["missing", "empty", "text", "random", "directory", "truncated flac", "truncated wav",
       "silence", "faint hiss", "no audio", "truncated m4a"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_gets_one_line_error_naming_file_and_cause(tmp_path, case):
    path, cause = _bad_inputs(tmp_path)[case]
    with pytest.raises(MediaError) as err:
        probe(path)
        load_audio(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    assert cause in message.lower()


def test_truncated_mp3_with_xing_header_is_caught(tmp_path):
    # ca_read_gossos.mp3 carries an Info tag with its byte count; FFmpeg alone would not notice.
    data = shared_media_file("ca_read_gossos.mp3").read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError, match="truncated"):
        decode_audio(cut)


def test_check_audible_accepts_quiet_speech_level():
    t = np.arange(16000 * 2) / 16000
    quiet = (10 ** (-42 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    check_audible(quiet, "quiet.wav")
    with pytest.raises(MediaError, match="silent"):
        check_audible(np.zeros(16000, np.float32), "zero.wav")
