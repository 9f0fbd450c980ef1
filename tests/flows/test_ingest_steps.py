"""Ingest steps over real media decoding and a real store, with a scripted transcription
backend and a keyword flagger so the mechanics are tested fast and deterministically.
(The slow test in test_ingest_kill.py runs the real models.)"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from clips_metadata.errors import NotFoundError
from clips_metadata.store import Store
from flows.services.ingesting import (
    IngestOptions,
    flag_step,
    ingest_media,
    probe_step,
    propose_step,
    transcribe_step,
)
from pipeline.records import Segment, Sentence, SentenceFlags, Word
from pipeline.translation_align import align_translations

SCRIPT = [
    ("How did you first come into contact with the group?", ()),
    ("They promised me a salary and a house and none of it was true.", ("false_promises",)),
    ("The salary stopped after two months and the house was stolen.", ("false_promises",)),
    ("In the square they executed a shopkeeper while we watched.", ("witnessed_brutality",)),
    ("His son was standing next to me.", ()),
    ("I still hear the sound he made.", ("witnessed_brutality",)),
    ("In the beginning the brotherhood was real and they brought order.", ("pro_group_advocacy",)),
    ("Some nights I think about going back to them.", ("intent_to_return",)),
    ("If someone online promises you paradise, do not believe him.", ("warning_to_others",)),
    ("Talk to your family, please do not go.", ("warning_to_others",)),
]


class ScriptedBackend:
    """Stands in for a Whisper backend: the script's words spread over the audio."""

    name = "faster-whisper"
    model_name = "scripted"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, audio, language, task, progress):
        self.calls += 1
        duration = audio.size / 16000
        slot = duration / len(SCRIPT)
        segments = []
        for i, (text, _) in enumerate(SCRIPT):
            words = text.split()
            start, step = i * slot + 0.5, (slot - 1.5) / len(words)
            ws = tuple(
                Word(round(start + k * step, 3), round(start + (k + 0.8) * step, 3), w, 0.9)
                for k, w in enumerate(words)
            )
            segments.append(Segment(ws[0].start, ws[-1].end, text, ws))
        return tuple(segments), language or "en", 0.99


@dataclass
class KeywordFlagger:
    """Stands in for pipeline.themes.Flagger: labels by exact script sentence."""

    fail: bool = False
    labels: tuple[str, ...] = ()
    taxonomy: object = None

    def flag_texts(self, texts, *, use_model=True, language=None):
        if self.fail:
            raise RuntimeError("encoder crashed")
        table = dict(SCRIPT)
        out = []
        for t in texts:
            labs = table.get(t.strip(), ())
            out.append(SentenceFlags(t, labs, dict.fromkeys(labs, 0.8)))
        return out


def _noise_wav(path: Path, seconds: float, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    pcm = (rng.normal(0, 0.1, int(seconds * 16000)).clip(-1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def setup(request, workspace, tmp_path):
    url = workspace.db_url if request.param == "sqlite" else request.getfixturevalue("postgres_db_url")
    store = Store.open(url)
    store.add_interviewee("Witness K")
    media = _noise_wav(tmp_path / "interview.wav", 100.0)
    yield store, workspace, media
    store.close()


def _counts(store: Store) -> tuple[int, int, int]:
    ivs = store.list_interviews()
    trs = sum(len(store.list_transcripts(i.id)) for i in ivs)
    return len(ivs), trs, store.count_candidates()


def test_ingest_runs_every_step_once_and_is_idempotent(setup):
    store, ws, media = setup
    backend, flagger = ScriptedBackend(), KeywordFlagger()
    steps: list[str] = []
    r = ingest_media(store, ws, media, "Witness K", backend=backend, flagger=flagger,
                     progress=lambda s, _m: steps.append(s))  # fmt: skip
    assert r.created and r.steps_run == ("probe", "transcribe", "diarize", "flag", "propose")
    assert r.interview.status == "ready" and r.interview.pseudonym == "Witness K"
    assert store.ingest_state(r.interview.id).complete
    assert r.candidates, "the scripted interview has themed runs"
    for c in r.candidates:
        assert c.status == "proposed" and "credibility" in c.risks  # the interview has warnings
        assert not {"pro_group_advocacy"} & set(c.risks)  # kept out of every body
    assert {w.risk for w in store.interview_warnings(r.interview.id)} == {
        "pro_group_advocacy",
        "intent_to_return",
    }
    body = json.loads(Path(r.transcript.body_path).read_text())
    assert body["source"]["sha256"] == r.interview.sha256
    before = _counts(store)

    again = ingest_media(store, ws, media, "Witness K", backend=backend, flagger=flagger)
    assert again.steps_run == () and not again.created and again.interview.id == r.interview.id
    assert _counts(store) == before and backend.calls == 1


def test_changed_file_is_a_new_interview(setup, tmp_path):
    store, ws, media = setup
    backend, flagger = ScriptedBackend(), KeywordFlagger()
    first = ingest_media(store, ws, media, "Witness K", backend=backend, flagger=flagger)
    _noise_wav(media, 100.0, seed=1)  # same path, new bytes
    second = ingest_media(store, ws, media, "Witness K", backend=backend, flagger=flagger)
    assert second.created and second.interview.id != first.interview.id
    assert second.interview.replaces_id == first.interview.id
    assert _counts(store)[:2] == (2, 2)


def test_separate_steps_persist_and_a_rerun_resumes_at_the_first_missing_one(setup):
    store, ws, media = setup
    backend = ScriptedBackend()
    iv = probe_step(store, media, "Witness K")
    assert store.ingest_state(iv.id).next_step == "transcribe"
    info = transcribe_step(store, iv.id, backend=backend, workspace=ws)
    assert transcribe_step(store, iv.id, backend=backend).id == info.id and backend.calls == 1
    r = ingest_media(store, ws, media, "Witness K", backend=backend, flagger=KeywordFlagger())
    assert r.steps_run == ("diarize", "flag", "propose") and backend.calls == 1
    # The nightly flow's calling convention: interview ids and a sidecar-like object.
    assert flag_step(store, iv.id, flagger=KeywordFlagger()) == 2  # already done: warnings count
    assert [c.id for c in propose_step(store, iv.id)] == [c.id for c in r.candidates]


def test_a_failed_step_marks_the_interview_and_the_rerun_completes(setup):
    store, ws, media = setup
    backend = ScriptedBackend()
    with pytest.raises(RuntimeError):
        ingest_media(store, ws, media, "Witness K", backend=backend, flagger=KeywordFlagger(fail=True))
    (iv,) = store.list_interviews()
    assert iv.status == "failed" and "encoder crashed" in iv.error
    assert store.ingest_state(iv.id).done == ("diarize", "probe", "transcribe")
    r = ingest_media(store, ws, media, "Witness K", backend=backend, flagger=KeywordFlagger())
    assert r.steps_run == ("flag", "propose") and r.interview.status == "ready" and r.interview.error == ""
    assert _counts(store)[:2] == (1, 1)


def test_unknown_pseudonym_fails_before_probing_and_unassigned_works(setup):
    store, ws, media = setup

    @dataclass(frozen=True)
    class Sidecar:
        interviewee: str = ""
        language: str = "en"
        recorded: str = "2026-01-15"
        place: str = "Studio"

    with pytest.raises(NotFoundError):
        probe_step(store, media, "Nobody")
    assert store.list_interviews() == ()
    iv = probe_step(store, media, Sidecar())
    assert iv.pseudonym == "unassigned" and (iv.language, iv.recorded, iv.place) == (
        "en",
        "2026-01-15",
        "Studio",
    )


def test_real_cue_flagger_runs_through_the_flag_step(setup):
    themes = pytest.importorskip("pipeline.themes")
    store, ws, media = setup
    r = ingest_media(store, ws, media, "Witness K", IngestOptions(keep_transcript_file=False),
                     backend=ScriptedBackend(), flagger=themes.Flagger.cues_only())  # fmt: skip
    tr = store.latest_transcript(r.interview.id)
    assert len(store.get_flags(tr.id)) == len(store.get_sentences(tr.id)) == len(SCRIPT)
    assert r.transcript.body_path == ""


def test_translations_attach_to_the_sentence_they_overlap_most():
    originals = [
        Sentence(0, 0.0, 4.0, "Hola."),
        Sentence(1, 4.5, 9.0, "Adiós."),
        Sentence(2, 20.0, 22.0, "Sí."),
    ]
    english = [
        Sentence(0, 0.2, 3.9, "Hello."),
        Sentence(1, 3.5, 8.0, "Goodbye."),
        Sentence(2, 12.0, 13.0, "Yes."),
    ]
    assert align_translations(originals, english) == ["Hello.", "Goodbye. Yes.", ""]
    assert align_translations([], english) == []


class FrenchBackend(ScriptedBackend):
    """French words; Whisper's English translation (the script) on the same clock."""

    def run(self, audio, language, task, progress):
        english, _, _ = super().run(audio, "en", task, progress)
        if task == "translate":
            return english, "en", 0.99
        french = tuple(
            Segment(s.start, s.end, f"Phrase française numéro {i}.",
                    tuple(Word(w.start, w.end, "mot.", w.probability) if k == len(s.words) - 1
                          else Word(w.start, w.end, "mot", w.probability) for k, w in enumerate(s.words)))
            for i, s in enumerate(english)
        )  # fmt: skip
        return french, "fr", 0.97


def test_non_english_footage_is_flagged_through_its_english_translation(setup):
    pytest.importorskip("pipeline.themes")
    store, ws, media = setup
    opts = IngestOptions(
        transcribe=__import__("pipeline.transcribe").transcribe.TranscribeOptions(translate=True)
    )
    r = ingest_media(store, ws, media, "Witness K", opts, backend=FrenchBackend(), flagger=KeywordFlagger())
    tr = store.latest_transcript(r.interview.id)
    assert tr.language == "fr" and store.load_transcript(tr.id).translation is not None
    english = store.get_sentence_translations(tr.id)
    assert len(english) == len(SCRIPT) and english[1] == SCRIPT[1][0]
    flagged = store.get_flags(tr.id)
    assert "false_promises" in flagged[1].labels and "pro_group_advocacy" in flagged[6].labels
    assert r.candidates and all(set(c.translations) == {"en"} for c in r.candidates)
    assert all(c.language == "fr" and c.subtitles["fr"].startswith("mot") for c in r.candidates)
