"""The voice encoder with its LSTM layers 2-3 in int8 (issue 16, phase 8): the quantization
itself, embeddings close to the float encoder's, the same turns on the synthetic interview, and
an idle-time helper's work never mixed into a diarization by the other encoder."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pipeline.speakers import SAMPLE_RATE, DiarizeOptions


@pytest.fixture(scope="module")
def interview():
    from tests.pipeline.speakers_support import spoken_interview_or_skip

    return spoken_interview_or_skip()


def test_columns_quantize_to_int8_within_half_a_step():
    from pipeline.voice_encoder import quantize_columns

    rng = np.random.default_rng(8)
    w = rng.normal(0, 0.1, (1024, 256)).astype(np.float32)
    w[3] = 0.0  # an all-zero output column must not divide by zero
    w[5, 7] = 5.0  # one large weight sets its column's step, not the others'
    q, scale = quantize_columns(w)
    assert q.dtype == np.int8 and q.shape == (1, 256, 1024) and scale.shape == (1, 1024)
    assert np.abs(q).max() <= 127
    error = np.abs(q[0] * scale[0] - w.T)
    assert np.all(error <= scale[0] / 2 + 1e-7)
    assert np.all(q[0][:, 3] == 0)
    assert scale[0, 5] > 10 * np.median(scale)


def test_the_store_names_the_int8_encoder():
    from pipeline.speakers import SpeakerModel

    plain = SpeakerModel(None, None, "a" * 64, "b" * 64)
    assert plain.model_id == f"silero-vad {'a' * 12} + resemblyzer {'b' * 12}"
    assert SpeakerModel(None, None, "a" * 64, "b" * 64, int8=True).model_id == plain.model_id + " int8"


@pytest.mark.slow
def test_int8_embeddings_are_the_float_ones_to_a_cosine_of_0_998(interview):
    from pipeline.speakers import _embed, _windows, load_speaker_model, speech_regions
    from pipeline.voice_encoder import mel_frames

    exact, quick = load_speaker_model(threads=1, int8=False), load_speaker_model(threads=1)
    assert quick.int8 and not exact.int8
    options = DiarizeOptions()
    windows = _windows(speech_regions(interview.audio, exact, options), options)
    assert len(windows) > 32  # several full batches, loud and quiet windows together
    mel = mel_frames(interview.audio)
    a, b = _embed(mel, windows, exact), _embed(mel, windows, quick)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() >= 0.998
    assert not np.array_equal(a, b)  # it is the quantized graph that ran


@pytest.mark.slow
def test_int8_gives_the_float_encoders_turns_on_the_interview(interview):
    from pipeline.speakers import diarize, load_speaker_model

    exact, quick = load_speaker_model(threads=1, int8=False), load_speaker_model(threads=2)
    for options in (DiarizeOptions(), DiarizeOptions(coarse_first=False)):
        assert diarize(interview.audio, SAMPLE_RATE, options, quick) == diarize(
            interview.audio, SAMPLE_RATE, options, exact)


@pytest.mark.slow
def test_the_turns_and_batches_of_a_helper_running_the_other_encoder_are_not_taken(interview):
    from pipeline.idle_diarization import IdleHelper
    from pipeline.speakers import diarize, load_speaker_model

    exact = load_speaker_model(int8=False)  # the helper loads the default, int8
    plain = diarize(interview.audio, SAMPLE_RATE, DiarizeOptions(), exact)
    helper = IdleHelper(idle=False)
    try:
        assert helper.start()
        for wait in (5, 20, 60):
            job = helper.begin(interview.audio, SAMPLE_RATE, DiarizeOptions())
            assert job is not None
            time.sleep(wait)
            assert job.finish(interview.audio, exact) == plain
            # Its batches are never taken, nor its turns (taken, they leave `received` empty).
            assert job.received and job.received["batches"] == 0
            if wait > 5 and not job.received["features"]:
                break  # it had finished (loaded, given time): its int8 turns were there, not taken
        assert helper.child_model is not None and helper.child_model.endswith(" int8")
        assert not job.received["features"]
    finally:
        helper.close()
