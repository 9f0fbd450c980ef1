"""Identity protection on real media: faces blurred on every sampled frame, a redacted name gone
from a re-transcription of the exported audio, voice altered."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.records import Cue
from pipeline.render.faces import faces_on_frame, iter_frames
from pipeline.render.subs import SubtitleTrack
from tests.conftest import shared_media_file
from tests.pipeline.render_support import TALKING_HEAD, export, ffmpeg, request

pytestmark = pytest.mark.slow

SAMPLE_EVERY = 0.2  # seconds between checked frames (several per detector sample of the render)


def test_faces_found_in_source_and_none_in_blurred_output(tmp_path):
    src = shared_media_file(TALKING_HEAD)
    req = request(src, tmp_path, start=0.0, end=4.0, blur_faces=True)
    result = export(req)
    source_frames = list(iter_frames(str(src), req.start, req.end, SAMPLE_EVERY))
    output_frames = list(iter_frames(str(result.video), 0.0, result.duration, SAMPLE_EVERY))
    assert len(source_frames) >= 15 and abs(len(output_frames) - len(source_frames)) <= 1
    missing = [t for t, frame in source_frames if not faces_on_frame(frame)]
    assert not missing, f"detector missed the face in the source at {missing}"
    exposed = [t for t, frame in output_frames if faces_on_frame(frame)]
    assert not exposed, f"a face is detectable in the export at {exposed}"


def _say(text: str, out: Path) -> Path:
    """A 320x240 video whose audio is espeak-ng reading `text`."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = out.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), text], check=True)  # noqa: S603, S607
    subprocess.run(  # noqa: S603
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "color=c=0x334455:s=320x240:r=25", "-i", str(wav), "-shortest", "-c:v", "libx264",
         "-preset", "ultrafast", "-c:a", "aac", str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def whisper():
    pytest.importorskip("faster_whisper")
    from pipeline.transcribe import TranscribeOptions, load_backend, transcribe

    options = TranscribeOptions(language="en")
    backend = load_backend(options)
    return lambda path: transcribe(path, options, backend=backend)


def test_redacted_name_absent_from_retranscribed_export(tmp_path, whisper):
    src = _say("Hello. My name is Michael Johnson, and I left the group in the spring. "
               "Michael Johnson is not a fighter any more.", tmp_path / "speech.mp4")
    original = whisper(src)
    said = original.text.lower()
    assert "johnson" in said and "michael" in said, said  # the name is really there to redact
    words = original.words
    cues = (Cue(0.0, 4.6, ("My name is Michael Johnson,", "and I left the group")),)
    req = request(src, tmp_path / "out", start=0.0, end=round(original.duration, 2), language="en",
                  subtitles=(SubtitleTrack("en", cues),), words=words,
                  redact_terms=("Michael Johnson",), pseudonym="Amal")
    result = export(req)

    heard = whisper(result.video).text.lower()
    assert "johnson" not in heard and "michael" not in heard, heard
    assert "group" in heard, heard  # the rest of the speech survives
    srt = next(p for p in result.sidecars if p.suffix == ".srt").read_text()
    assert "Amal" in srt and "Johnson" not in srt and "Michael" not in srt
    manifest = result.manifest.read_text()
    assert "Johnson" not in manifest and "Michael" not in manifest  # the manifest travels too
    import json

    assert len(json.loads(manifest)["redactions"]["bleeps"]) == 2


def test_voice_altered_render_keeps_duration_and_lowers_pitch(tmp_path):
    import numpy as np

    from pipeline.media import decode_audio

    src = _say("This is a test of the voice change.", tmp_path / "voice.mp4")
    plain = export(request(src, tmp_path / "a", start=0.0, end=2.0))
    altered = export(request(src, tmp_path / "b", start=0.0, end=2.0, alter_voice=True))
    assert abs(altered.duration - plain.duration) < 0.05

    def centroid(path: Path) -> float:
        audio = decode_audio(path)
        spectrum = np.abs(np.fft.rfft(audio))
        freqs = np.fft.rfftfreq(len(audio), 1 / 16000)
        band = (freqs > 60) & (freqs < 400)  # fundamental range of a voice
        return float((spectrum[band] * freqs[band]).sum() / spectrum[band].sum())

    assert centroid(altered.video) < centroid(plain.video) * 0.97


def test_no_face_found_blurs_the_whole_frame(tmp_path):
    """A detector miss fails safe: where no face was seen, the whole picture is blurred."""
    import json

    src = _say("Nobody is on camera here.", tmp_path / "faceless.mp4")
    result = export(request(src, tmp_path / "out", start=0.0, end=1.5, blur_faces=True))
    identity = json.loads(result.manifest.read_text())["identity_protection"]
    assert identity["face_samples_with_faces"] == 0
    assert identity["full_frame_blur_seconds"] == 1.5
