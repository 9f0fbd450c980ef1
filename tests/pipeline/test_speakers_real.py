"""Speakers with the real models on a synthetic espeak-ng interview (slow): diarization, the
packaged Whisper transcription labelled with speakers, candidates from the interviewee only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.atomic import write_json_atomic
from pipeline.candidates import CandidateOptions, propose_candidates
from pipeline.records import SentenceFlags
from pipeline.sentences import build_sentences
from pipeline.speakers import (
    DiarizeOptions,
    choose_interviewee,
    diarize,
    diarize_in_background,
    label_speakers,
    load_speaker_model,
    transcript_interviewee,
)
from pipeline.transcript_io import read_transcript, transcript_to_dict
from pipeline.whisper_weights import packaged_parts
from tests.pipeline.speakers_support import RATE, espeak_available, make_interview

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed"),
]


@pytest.fixture(scope="module")
def model():
    return load_speaker_model()


@pytest.fixture(scope="module")
def interview():
    return make_interview()


@pytest.fixture(scope="module")
def labelled(model, interview):
    if packaged_parts() is None:
        pytest.skip("packaged whisper base not installed")
    from pipeline.transcribe import TranscribeOptions, load_backend, transcribe_audio

    options = TranscribeOptions()
    transcript = transcribe_audio(interview.audio, options, load_backend(options))
    return label_speakers(transcript, interview.audio, RATE, model)


def _reference_speaker(interview, t: float) -> str | None:
    return next((who for a, b, who in interview.turns if a - 0.2 <= t <= b + 0.2), None)


def test_two_speakers_found_and_turns_follow_the_script(model, interview):
    turns = diarize(interview.audio, RATE, DiarizeOptions(), model)
    assert {t.speaker for t in turns} == {"S1", "S2"}
    # Each reference turn is (almost) all one found speaker, and the two roles differ.
    role_of: dict[str, set[str]] = {"I": set(), "E": set()}
    for a, b, who in interview.turns:
        spoken: dict[str, float] = {}
        for t in turns:
            ov = min(b, t.end) - max(a, t.start)
            if ov > 0:
                spoken[t.speaker] = spoken.get(t.speaker, 0.0) + ov
        top = max(spoken, key=spoken.__getitem__)
        assert spoken[top] >= 0.9 * sum(spoken.values())
        role_of[who].add(top)
    assert len(role_of["I"]) == 1 and len(role_of["E"]) == 1 and role_of["I"] != role_of["E"]
    assert choose_interviewee(turns) == next(iter(role_of["E"]))
    assert choose_interviewee(turns, interviewer_first=True) == next(iter(role_of["E"]))


def test_forcing_the_speaker_count(model, interview):
    turns = diarize(interview.audio, RATE, DiarizeOptions(num_speakers=3), model)
    assert len({t.speaker for t in turns}) == 3


def test_question_words_get_the_interviewer_and_candidates_hold_none_of_them(labelled, interview, tmp_path):
    interviewee = transcript_interviewee(labelled)
    words = labelled.words
    assert words and all(w.speaker in {"S1", "S2"} for w in words)
    question_words = [w for w in words if _reference_speaker(interview, (w.start + w.end) / 2) == "I"]
    answer_words = [w for w in words if _reference_speaker(interview, (w.start + w.end) / 2) == "E"]
    assert question_words and answer_words
    interviewer = {w.speaker for w in question_words}
    assert len(interviewer) == 1 and interviewee not in interviewer
    assert {w.speaker for w in answer_words} == {interviewee}

    # Every sentence themed, the interviewer's too, so only the speaker rule keeps them out.
    sentences = build_sentences(words, labelled.language)
    assert all({w.speaker for w in s.words} == {s.speaker} for s in sentences)
    theme = "disillusionment_exit"
    flags = [SentenceFlags(s.text, (theme,), {theme: 0.8}) for s in sentences]
    options = CandidateOptions(min_duration=8, target_duration=20, max_duration=40, interviewee=interviewee)
    proposals = propose_candidates(sentences, flags, options=options, duration=interview.duration)
    assert proposals
    for p in proposals:
        inside = [w for w in words if w.start < p.end and w.end > p.start]
        assert inside and all(w.speaker == interviewee for w in inside), p
        assert all(sentences[i].speaker == interviewee for i in p.sentence_indices)
        if p.question is not None:
            assert p.question.speaker != interviewee and p.question.end <= p.start
    assert any(p.question is not None for p in proposals)

    # The transcript JSON carries a speaker on every word and segment, and reads back the same.
    path = write_json_atomic(tmp_path / "t.json", transcript_to_dict(labelled))
    data = json.loads(path.read_text())
    assert all(s["speaker"] in {"S1", "S2"} for s in data["segments"])
    assert all(w["speaker"] in {"S1", "S2"} for s in data["segments"] for w in s["words"])
    assert read_transcript(path) == labelled


def test_diarizing_beside_whisper_changes_neither_the_transcript_nor_the_turns(model, interview):
    """Ingest runs diarization on a second thread while Whisper transcribes the same array: both
    results must be what each gives alone (fixed thread counts, BLAS pinned)."""
    if packaged_parts() is None:
        pytest.skip("packaged whisper base not installed")
    from pipeline.transcribe import TranscribeOptions, load_backend, transcribe_audio

    options = TranscribeOptions()
    backend = load_backend(options)
    alone = transcribe_audio(interview.audio, options, backend)
    found = diarize_in_background(interview.audio, RATE, DiarizeOptions(), lambda: model)
    beside = transcribe_audio(interview.audio, options, backend)
    turns, used = found.result(timeout=600)
    assert beside == alone
    assert used is model
    assert turns == diarize(interview.audio, RATE, DiarizeOptions(), model)


def test_bad_audio_is_a_clear_error(model):
    from pipeline.speakers import DiarizationError

    with pytest.raises(DiarizationError):
        diarize(np.array([np.nan, 0.0] * 8000, dtype=np.float32), RATE, model=model)
    with pytest.raises(DiarizationError):
        diarize(np.zeros((2, 2, 2), dtype=np.float32), RATE, model=model)
    assert diarize(np.zeros(RATE * 3, dtype=np.float32), RATE, model=model) == ()
