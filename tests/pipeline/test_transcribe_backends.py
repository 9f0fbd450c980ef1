"""Both transcription backends on real speech with the packaged weights (loaded once per session)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from pipeline.atomic import write_json_atomic
from pipeline.errors import MediaError, ModelError
from pipeline.records import Segment, Transcript, Translation, Word
from pipeline.transcribe import TranscribeOptions, load_backend, transcribe
from pipeline.transcript_io import read_transcript, transcript_from_dict, transcript_to_dict
from pipeline.whisper_weights import packaged_parts
from tests.conftest import TEST_DATA, shared_media_file

JFK = TEST_DATA / "en_jfk_inaugural.flac"
FR = TEST_DATA / "fr_read_sentence_picovoice.wav"
DE = TEST_DATA / "de_read_sentence_picovoice.wav"
JFK_TEXT = ("and so my fellow americans ask not what your country can do for you "
            "ask what you can do for your country")

needs_packaged = pytest.mark.skipif(packaged_parts() is None, reason="packaged whisper base not installed")


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


class _NoNetwork:
    """Fails any outbound connection: loading packaged weights must not touch the network."""

    def __enter__(self) -> None:
        self._connect = socket.socket.connect

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"network access attempted: {args[1:]}")

        socket.socket.connect = refuse  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def fw_backend() -> Iterator[object]:
    with _NoNetwork():  # only while loading: a session fixture must not cut the network for later tests
        backend = load_backend(TranscribeOptions())
    yield backend


@pytest.fixture(scope="session")
def ow_backend() -> Iterator[object]:
    with _NoNetwork():  # only while loading: a session fixture must not cut the network for later tests
        backend = load_backend(TranscribeOptions(backend="openai-whisper"))
    yield backend


@pytest.fixture(scope="session")
def jfk_fw(fw_backend) -> Transcript:
    return transcribe(JFK, TranscribeOptions(), backend=fw_backend)


def assert_words_sane(t: Transcript) -> None:
    words = t.words
    assert words
    prev_end = 0.0
    for w in words:
        assert 0.0 <= w.start <= w.end <= t.duration
        assert w.start >= prev_end - 1e-6  # monotonic, no overlap
        assert 0.0 <= w.probability <= 1.0
        assert w.text == w.text.strip() and w.text
        prev_end = w.end
    for s in t.segments:
        assert 0.0 <= s.start <= s.end <= t.duration


@pytest.mark.slow
@needs_packaged
def test_jfk_words_come_out_right(jfk_fw):
    assert jfk_fw.backend == "faster-whisper" and jfk_fw.model == "base"
    assert jfk_fw.language == "en" and jfk_fw.language_probability > 0.5
    assert jfk_fw.duration == pytest.approx(11.0, abs=0.05)
    assert norm(jfk_fw.text) == JFK_TEXT
    assert norm(" ".join(w.text for w in jfk_fw.words)) == JFK_TEXT
    assert_words_sane(jfk_fw)
    # "Americans" is spoken around 2.0-3.0 s in the recording.
    americans = next(w for w in jfk_fw.words if "Americans" in w.text)
    assert 1.5 < americans.start < 3.5


@pytest.mark.slow
@needs_packaged
@pytest.mark.parametrize(("path", "lang", "expect"), [
    (FR, "fr", "conservateur des eaux et forêts"),
    (DE, "de", "raum wurde als"),
])
def test_french_and_german_are_detected(fw_backend, path, lang, expect):
    t = transcribe(path, TranscribeOptions(), backend=fw_backend)
    assert t.language == lang and t.language_probability > 0.8
    assert expect in norm(t.text)
    assert_words_sane(t)


@pytest.mark.slow
@needs_packaged
def test_progress_reports_seconds_up_to_the_total(fw_backend):
    calls: list[tuple[float, float]] = []
    transcribe(DE, TranscribeOptions(language="de"), backend=fw_backend,
               progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] == pytest.approx(5.256, abs=0.01)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.slow
@needs_packaged
def test_translation_is_english_on_the_original_clock(fw_backend):
    t = transcribe(FR, TranscribeOptions(translate=True), backend=fw_backend)
    assert t.language == "fr" and t.translation is not None
    assert t.translation.language == "en"
    english = norm(" ".join(s.text for s in t.translation.segments))
    # Whisper base translates this sentence loosely; check it is English, not the French again.
    assert "consul" in english and {"the", "it"} <= set(english.split())
    assert "conservateur" not in english
    for s in t.translation.segments:
        assert 0.0 <= s.start <= s.end <= t.duration
    # Same clock: the translation spans roughly the same speech as the transcript.
    assert abs(t.translation.segments[0].start - t.segments[0].start) < 1.0


@pytest.mark.slow
@needs_packaged
def test_english_is_not_translated(fw_backend):
    t = transcribe(JFK, TranscribeOptions(translate=True), backend=fw_backend)
    assert t.translation is None


@pytest.mark.slow
@needs_packaged
def test_openai_whisper_agrees_with_faster_whisper_on_jfk(ow_backend, jfk_fw):
    calls: list[tuple[float, float]] = []
    t = transcribe(JFK, TranscribeOptions(backend="openai-whisper"), backend=ow_backend,
                   progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (pytest.approx(t.duration), pytest.approx(t.duration))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert t.backend == "openai-whisper" and t.language == "en" and t.language_probability > 0.5
    assert norm(t.text) == norm(jfk_fw.text) == JFK_TEXT
    assert_words_sane(t)
    # With the CTranslate2 alignment heads set, word times agree closely across backends.
    ends = [abs(a.end - b.end) for a, b in zip(t.words, jfk_fw.words, strict=True)]
    assert sorted(ends)[len(ends) // 2] < 0.15


@pytest.mark.slow
@needs_packaged
def test_batched_hallucination_loop_is_decoded_again(fw_backend):
    # On this quiet dialogue the batched pipeline (no temperature fallback) emits "Hello." fifteen
    # times and drops the rest; the repair re-decodes that span sequentially.
    from pipeline.transcribe import _compression_ratio

    t = transcribe(shared_media_file("en_dialogue_gloria.mp3"), TranscribeOptions(), backend=fw_backend)
    assert _compression_ratio(t.text) < 2.4
    assert t.words[-1].end > 15.0  # speech after the loop is no longer lost
    assert "stay as long as you want" in norm(t.text)
    assert_words_sane(t)


def test_compression_ratio_flags_loops():
    from pipeline.transcribe import _compression_ratio

    assert _compression_ratio("Hello. " * 15) > 2.4
    assert _compression_ratio("And so my fellow Americans, ask not what your country can do for you.") < 2.4


@pytest.mark.slow
@needs_packaged
def test_loaded_backend_must_match_options(fw_backend):
    with pytest.raises(ModelError, match="loaded"):
        transcribe(JFK, TranscribeOptions(backend="openai-whisper"), backend=fw_backend)


def test_language_codes_and_names():
    from pipeline.errors import TranscriptionError
    from pipeline.transcribe import language_code

    assert language_code("FR") == "fr" and language_code("German") == "de" and language_code(None) is None
    with pytest.raises(TranscriptionError, match="unknown language"):
        language_code("xx")


def test_unknown_backend_is_a_model_error():
    with pytest.raises(ModelError, match="unknown backend"):
        load_backend(TranscribeOptions(backend="vosk"))


def test_bad_media_fails_before_any_model_loads(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        transcribe(tmp_path / "empty.wav", TranscribeOptions(model="/no/such/model"))


def _sample() -> Transcript:
    words = (Word(0.5, 0.9, "Bonjour", 0.98), Word(1.0, 1.4, "à tous.", 0.9))
    return Transcript(language="fr", language_probability=0.97, duration=2.0,
                      segments=(Segment(0.5, 1.4, " Bonjour à tous.", words),), backend="faster-whisper",
                      model="base", translation=Translation("en", (Segment(0.5, 1.4, "Hello everyone."),)))


def test_transcript_json_round_trip(tmp_path):
    from pipeline.records import MediaInfo

    t = _sample()
    media = MediaInfo(path="/x/a b.mp4", sha256="ab" * 32, size=10, container="mp4", duration=2.0, streams=())
    d = transcript_to_dict(t, media)
    assert d["source"] == {"path": "/x/a b.mp4", "sha256": "ab" * 32, "duration": 2.0}
    assert d["segments"][0]["words"][1] == {"start": 1.0, "end": 1.4, "text": "à tous.", "probability": 0.9,
                                            "speaker": None}  # every word carries it (issue 16)
    assert d["translation"]["language"] == "en"
    path = write_json_atomic(tmp_path / "out" / "a.transcript.json", d)
    assert [p.name for p in path.parent.iterdir()] == ["a.transcript.json"]  # no temp file left
    assert "à tous" in path.read_text(encoding="utf-8")
    assert read_transcript(path) == transcript_from_dict(d) == t


def test_malformed_transcript_json_is_one_line_error():
    from pipeline.errors import TranscriptionError

    with pytest.raises(TranscriptionError, match="malformed"):
        transcript_from_dict({"language": "en"})
