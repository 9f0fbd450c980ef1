"""Cue limits hold on long real speech, transcribed by the real default backend."""

from __future__ import annotations

import pysubs2
import pytest

from pipeline.cues import build_cues, check_cue_limits
from pipeline.sentences import build_sentences
from pipeline.subtitles import write_subtitles
from tests.conftest import shared_media_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend():
    from pipeline.transcribe import TranscribeOptions, load_backend

    return load_backend(TranscribeOptions())


def _transcribe(name: str, language: str, backend):
    from pipeline.transcribe import TranscribeOptions, transcribe

    return transcribe(shared_media_file(name), TranscribeOptions(language=language), backend=backend)


def test_cue_limits_hold_on_long_real_speech(backend, tmp_path):
    transcript = _transcribe("vid_en_manifesto_audiobook.mp4", "en", backend)  # 88 s audiobook
    assert transcript.duration >= 60
    sentences = build_sentences(transcript.words, transcript.language)
    assert len(sentences) >= 15
    cues = build_cues(sentences)
    assert check_cue_limits(cues) == []
    # Every word once, whole and in order.
    words = [w.text for s in sentences for w in s.words]
    assert [tok for c in cues for line in c.lines for tok in line.split()] == words
    assert cues[0].start >= 0 and cues[-1].end <= transcript.duration + 7.0
    # The cues the renderer and the sidecars will use parse back in every format.
    for suffix in (".srt", ".vtt", ".ass"):
        subs = pysubs2.load(str(write_subtitles(cues, tmp_path / f"manifesto{suffix}")))
        assert len(subs) == len(cues)
        expected = [(round(c.start * 1000), round(c.end * 1000)) for c in cues]
        assert [(e.start, e.end) for e in subs] == expected


def test_cue_limits_hold_on_real_arabic_speech(backend):
    transcript = _transcribe("ar-eg_conversational_klaam.wav", "ar", backend)  # 10 s, Egyptian
    sentences = build_sentences(transcript.words, "ar")
    cues = build_cues(sentences)
    assert cues and check_cue_limits(cues) == []
    # Logical order kept: the cue lines read back as the sentences, word for word.
    assert " ".join(line for c in cues for line in c.lines) == " ".join(s.text for s in sentences)


def test_cue_limits_hold_on_real_unspaced_japanese(backend):
    transcript = _transcribe("ja_google_news_talk.mp3", "ja", backend)  # 40 s, no spaces
    sentences = build_sentences(transcript.words, "ja")
    cues = build_cues(sentences)
    assert cues and check_cue_limits(cues) == []
    # No character lost or invented between sentences and cue lines.
    assert "".join(line for c in cues for line in c.lines) == "".join(s.text for s in sentences)
