"""Speakers without models (fast): word assignment, interviewee choice, sentences split at a
speaker change, candidates from the interviewee only, question cards, transcript JSON."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.candidates import CandidateOptions, proposals_to_json, propose_candidates
from pipeline.records import Segment, Sentence, SentenceFlags, Transcript, Translation, Word
from pipeline.sentences import build_sentences
from pipeline.speakers import (
    DiarizeOptions,
    SpeakerTurn,
    _fold_short,
    _label,
    apply_turns,
    assign_speakers,
    choose_interviewee,
    interviewee_flags,
    speaker_times,
    transcript_interviewee,
)
from pipeline.transcript_io import transcript_from_dict, transcript_to_dict

THEME = "disillusionment_exit"


def _words(spec: list[tuple[str, str]], start: float = 0.0, step: float = 0.5) -> tuple[Word, ...]:
    out, t = [], start
    for text, speaker in spec:
        out.append(Word(t, t + 0.4, text, 0.9, speaker))
        t += step
    return tuple(out)


# ------------------------------------------------------------------------------ assignment


def test_words_take_the_speaker_of_the_turn_they_overlap_most():
    turns = (SpeakerTurn(0.0, 2.0, "S1"), SpeakerTurn(2.2, 5.0, "S2"))
    words = (Word(0.1, 0.5, "a", 0.9), Word(1.8, 2.5, "b", 0.9), Word(2.1, 2.3, "c", 0.9),
             Word(6.0, 6.3, "d", 0.9), Word(-1.0, -0.5, "e", 0.9))
    got = [w.speaker for w in assign_speakers(words, turns)]
    # b: 0.2 s in S1, 0.3 s in S2; c: in the gap mostly, 0.1 s in S2; d and e: nearest turn.
    assert got == ["S1", "S2", "S2", "S2", "S1"]


def test_assignment_without_turns_leaves_words_alone():
    words = _words([("a", None), ("b", None)])  # type: ignore[list-item]
    assert assign_speakers(words, ()) == words


@settings(max_examples=60, deadline=None)
@given(
    bounds=st.lists(st.floats(0.2, 5.0), min_size=2, max_size=12),
    times=st.lists(st.tuples(st.floats(0, 60), st.floats(0.01, 2.0)), max_size=40),
)
def test_every_word_gets_a_speaker_that_exists_and_covers_it_when_one_does(bounds, times):
    turns, t = [], 0.0
    for i, d in enumerate(bounds):
        turns.append(SpeakerTurn(t, t + d, f"S{i % 3 + 1}"))
        t += d + 0.3
    words = tuple(Word(s, s + d, "w", 0.9) for s, d in times)
    out = assign_speakers(words, turns)
    assert [(w.start, w.end, w.text) for w in out] == [(w.start, w.end, w.text) for w in words]
    for w in out:
        assert w.speaker in {x.speaker for x in turns}
        inside = [x for x in turns if x.start <= w.start and w.end <= x.end]
        if inside:
            assert w.speaker == inside[0].speaker


# ------------------------------------------------------------------------ interviewee choice


def test_interviewee_is_the_speaker_with_most_speech_unless_interviewer_first():
    turns = (SpeakerTurn(0, 2, "S1"), SpeakerTurn(2, 12, "S2"), SpeakerTurn(12, 14, "S1"),
             SpeakerTurn(14, 17, "S3"))
    assert speaker_times(turns) == {"S1": 4, "S2": 10, "S3": 3}
    assert choose_interviewee(turns) == "S2"
    # The first speaker is the interviewer: the most speech among the others.
    assert choose_interviewee(turns, interviewer_first=True) == "S2"
    # A talkative interviewer who speaks first is still not chosen when told.
    chatty = (SpeakerTurn(0, 20, "S1"), SpeakerTurn(20, 25, "S2"))
    assert choose_interviewee(chatty) == "S1"
    assert choose_interviewee(chatty, interviewer_first=True) == "S2"
    assert choose_interviewee(()) is None
    assert choose_interviewee((SpeakerTurn(0, 1, "S1"),), interviewer_first=True) == "S1"


def test_labels_follow_first_appearance_and_short_interjections_fold():
    raw = [SpeakerTurn(0, 3, "4"), SpeakerTurn(3, 3.2, "0"), SpeakerTurn(3.2, 6, "4"), SpeakerTurn(7, 9, "0")]
    turns = _label(_fold_short(raw, 0.4))
    assert [(t.start, t.end, t.speaker) for t in turns] == [(0, 6, "S1"), (7, 9, "S2")]


def test_options_are_validated():
    with pytest.raises(ValueError):
        DiarizeOptions(num_speakers=0)
    with pytest.raises(ValueError):
        DiarizeOptions(min_speakers=4, max_speakers=3)


# ----------------------------------------------------------------------------- sentences


def test_a_sentence_never_spans_a_speaker_change_and_carries_its_speaker():
    words = _words([("How", "S1"), ("do", "S1"), ("you", "S1"), ("feel", "S1"), ("I", "S2"),
                    ("regret", "S2"), ("it.", "S2"), ("Why?", "S1")], step=0.3)
    sents = build_sentences(words, "en")
    assert [(s.text, s.speaker) for s in sents] == [
        ("How do you feel", "S1"), ("I regret it.", "S2"), ("Why?", "S1")]
    assert all({w.speaker for w in s.words} == {s.speaker} for s in sents)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["so", "yes.", "well,", "no?", "I"]),
                          st.sampled_from(["S1", "S2"])), min_size=1, max_size=60))
def test_sentences_are_single_speaker_and_keep_every_word(spec):
    words = _words(spec, step=0.3)
    sents = build_sentences(words, "en")
    assert sum(len(s.words) for s in sents) == len(words)
    for s in sents:
        assert {w.speaker for w in s.words} == {s.speaker}


def test_words_without_speakers_build_sentences_as_before():
    words = _words([("One", None), ("two.", None), ("Three.", None)])  # type: ignore[list-item]
    got = [(s.text, s.speaker) for s in build_sentences(words, "en")]
    assert got == [("One two.", None), ("Three.", None)]


# ---------------------------------------------------------------------------- candidates


def _dialogue() -> tuple[tuple[Sentence, ...], list[SentenceFlags]]:
    """Q (S1), A (S2) x3; every sentence themed, the interviewer's too (as a flagger would)."""
    plan = [("S1", "How do you feel about it now?", 3.0), ("S2", "I regret every day of it.", 12.0),
            ("S2", "They lied to all of us.", 10.0), ("S1", "And your family?", 2.0),
            ("S2", "My mother hid me for a month.", 14.0), ("S2", "She saved my life.", 8.0),
            ("S1", "What would you tell them today?", 3.0), ("S2", "Walk away while you can.", 18.0)]
    sents, flags, t = [], [], 1.0
    for i, (spk, text, dur) in enumerate(plan):
        words, w = [], t
        while w + 0.4 <= t + dur + 1e-9:
            words.append(Word(round(w, 3), round(w + 0.4, 3), f"w{i}", 0.9, spk))
            w += 0.5
        sents.append(Sentence(i, words[0].start, words[-1].end, text, tuple(words), "en", spk))
        flags.append(SentenceFlags(text, (THEME,), {THEME: 0.8}))
        t = words[-1].end + 0.7
    return tuple(sents), flags


def test_candidates_hold_no_interviewer_sentence_or_time_and_keep_the_question_as_a_card():
    sents, flags = _dialogue()
    options = CandidateOptions(min_duration=8, target_duration=20, max_duration=40, interviewee="S2")
    props = propose_candidates(sents, flags, options=options)
    assert props
    interviewer = [s for s in sents if s.speaker == "S1"]
    for p in props:
        assert all(sents[i].speaker == "S2" for i in p.sentence_indices)
        for q in interviewer:
            assert q.end <= p.start or q.start >= p.end, (p, q)
        assert p.question is not None and p.question.speaker == "S1"
        assert p.question.kind == "interviewer_question"
        assert p.question.end <= p.start
        assert p.question.text.endswith("?")
        assert "interviewer" in " ".join(p.reasons)
    js = proposals_to_json(props)
    assert js[0]["question"]["speaker"] == "S1"
    # Without diarization, the same flags let the question into a clip.
    plain = propose_candidates(sents, flags, options=CandidateOptions(min_duration=8, target_duration=20,
                                                                      max_duration=40))
    assert any(sents[i].speaker == "S1" for p in plain for i in p.sentence_indices)
    assert all(p.question is None for p in plain)


def test_no_card_without_a_question_or_when_turned_off():
    sents, flags = _dialogue()
    sents = tuple(s if s.speaker == "S2" else Sentence(s.index, s.start, s.end, "Right.", s.words, "en", "S1")
                  for s in sents)
    options = CandidateOptions(min_duration=8, target_duration=20, max_duration=40, interviewee="S2")
    props = propose_candidates(sents, flags, options=options)
    # "I regret..." and "My mother..." open independently; "Walk away" too: no card needed.
    assert props and all(p.question is None for p in props)
    sents2, flags2 = _dialogue()
    off = CandidateOptions(min_duration=8, target_duration=20, max_duration=40, interviewee="S2",
                           question_card=False)
    assert all(p.question is None for p in propose_candidates(sents2, flags2, options=off))


def test_interviewer_flags_are_masked_for_themes_risks_and_credibility():
    sents, flags = _dialogue()
    flags[0] = SentenceFlags(flags[0].text, ("deception_admission",), {"deception_admission": 0.9})
    masked = interviewee_flags(sents, flags, "S2")
    assert all(f.labels == () for s, f in zip(sents, masked, strict=True) if s.speaker == "S1")
    assert all(f.labels == (THEME,) for s, f in zip(sents, masked, strict=True) if s.speaker == "S2")
    assert interviewee_flags(sents, flags, None) == flags
    with pytest.raises(ValueError):
        interviewee_flags(sents, flags[:-1], "S2")


# ------------------------------------------------------------------- transcript labelling


def _transcript() -> Transcript:
    seg1 = Segment(0.0, 3.0, " How are you? Fine thanks.", (
        Word(0.0, 0.4, "How", 0.9), Word(0.5, 0.9, "are", 0.9), Word(1.0, 1.4, "you?", 0.9),
        Word(2.0, 2.4, "Fine", 0.9), Word(2.5, 2.9, "thanks.", 0.9)))
    seg2 = Segment(3.5, 4.5, " Good.", (Word(3.5, 4.4, "Good.", 0.8),))
    tr = Translation("en", (Segment(0.0, 1.5, "How are you?"), Segment(2.0, 4.5, "Fine thanks. Good.")))
    return Transcript("en", 0.99, 5.0, (seg1, seg2), "faster-whisper", "base", tr)


def test_apply_turns_labels_words_splits_segments_and_round_trips_through_json():
    turns = (SpeakerTurn(0.0, 1.6, "S1"), SpeakerTurn(1.9, 4.6, "S2"))
    labelled = apply_turns(_transcript(), turns)
    assert [(s.text, s.speaker) for s in labelled.segments] == [
        ("How are you?", "S1"), ("Fine thanks.", "S2"), (" Good.", "S2")]
    assert all(w.speaker is not None for w in labelled.words)
    assert [s.speaker for s in labelled.translation.segments] == ["S1", "S2"]
    assert transcript_interviewee(labelled) == "S2"
    data = transcript_to_dict(labelled)
    assert all("speaker" in s for s in data["segments"])
    assert all("speaker" in w for s in data["segments"] for w in s["words"])
    assert transcript_from_dict(data) == labelled


def test_old_transcript_json_reads_with_no_speaker():
    data = transcript_to_dict(_transcript())
    for s in data["segments"]:
        s.pop("speaker")
        for w in s["words"]:
            w.pop("speaker")
    back = transcript_from_dict(data)
    assert all(w.speaker is None for w in back.words)
    assert back == _transcript()


# ------------------------------------------------------------------------------ weights


def test_weights_are_checked_against_their_pinned_sha256(monkeypatch):
    import importlib.util

    from pipeline import speakers
    from pipeline.errors import ModelError

    if importlib.util.find_spec("resemblyzer") is None or importlib.util.find_spec("silero_vad") is None:
        pytest.skip("speaker model packages not installed")
    assert speakers._packaged_file("silero_vad", "data/silero_vad.onnx").is_file()
    bad = {key: "0" * 64 for key in speakers.KNOWN_SHA256}
    monkeypatch.setattr(speakers, "KNOWN_SHA256", bad)
    with pytest.raises(ModelError, match="sha256"):
        speakers._packaged_file("silero_vad", "data/silero_vad.onnx")
    with pytest.raises(ModelError, match="not installed"):
        speakers._packaged_file("no_such_package_here", "x.onnx")


# ------------------------------------------------------------------------- in the background


def test_diarizing_in_the_background_hands_back_the_turns_or_the_error(monkeypatch):
    import numpy as np

    from pipeline import speakers

    turns = (SpeakerTurn(0.0, 1.0, "S1"),)
    seen = []

    def fake_diarize(audio, rate, options, model, features=None):
        seen.append((len(audio), rate, options, model))
        return turns

    monkeypatch.setattr(speakers, "diarize", fake_diarize)
    audio = np.zeros(16000, dtype=np.float32)
    model = object()
    found = speakers.diarize_in_background(audio, 16000, DiarizeOptions(num_speakers=2), lambda: model)
    assert found.result(timeout=30) == (turns, model)
    assert seen == [(16000, 16000, DiarizeOptions(num_speakers=2), model)]

    def no_model():
        raise speakers.DiarizationError("no model here")

    failed = speakers.diarize_in_background(audio, 16000, DiarizeOptions(), no_model)
    with pytest.raises(speakers.DiarizationError, match="no model here"):
        failed.result(timeout=30)


def test_diarize_decoded_runs_on_this_thread_unless_cores_are_left_over(monkeypatch):
    """On 2-3 cores ingest diarizes after Whisper, on the calling thread (beside it, Whisper's two
    threads stall); the failure stays in the future for the diarize step to raise."""
    import threading

    import numpy as np

    from flows.services import ingesting
    from pipeline import speakers

    threads = []

    def fake_diarize(audio, rate, options, model, features=None):
        threads.append(threading.current_thread())
        return (SpeakerTurn(0.0, 1.0, "S1"),)

    monkeypatch.setattr(speakers, "diarize", fake_diarize)
    audio = np.zeros(16000, dtype=np.float32)
    model = object()
    now = ingesting.diarize_decoded(audio, speakers=lambda: model)
    assert now.done() and now.result() == ((SpeakerTurn(0.0, 1.0, "S1"),), model)
    assert threads == [threading.current_thread()]
    beside = ingesting.diarize_decoded(audio, speakers=lambda: model, beside=True)
    assert beside.result(timeout=30)[1] is model and threads[-1] is not threading.current_thread()

    def no_model():
        raise speakers.DiarizationError("no model here")

    failed = ingesting.diarize_decoded(audio, speakers=no_model)
    with pytest.raises(speakers.DiarizationError, match="no model here"):
        failed.result()
    assert ingesting.diarize_decoded(audio, ingesting.IngestOptions(no_diarize=True)) is None
    monkeypatch.setattr(ingesting.os, "cpu_count", lambda: 2)
    assert not ingesting.diarize_beside()
    monkeypatch.setattr(ingesting.os, "cpu_count", lambda: 8)
    assert ingesting.diarize_beside()
