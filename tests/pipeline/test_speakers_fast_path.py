"""Diarization's fast path (issue 16, phase 4): speech regions from silero's probabilities
(vectorised, and settled while silero still runs), the vectorised silhouette, and, with the real
models, the torch-free encoder against resemblyzer's own and turns that do not depend on how many
threads ran them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.speakers import (
    _VAD_CHUNK,
    SAMPLE_RATE,
    DiarizeOptions,
    _cosine_distances,
    _silhouette,
    regions_from_probabilities,
)

STEP = _VAD_CHUNK / SAMPLE_RATE


def _regions_by_loop(probs: np.ndarray, total: float, o: DiarizeOptions) -> list[tuple[float, float]]:
    """The chunk-by-chunk hysteresis `speech_regions` ran before it was vectorised."""
    on, off = o.vad_threshold, max(o.vad_threshold - 0.15, 0.01)
    regions: list[list[float]] = []
    speaking = False
    for i, p in enumerate(probs):
        if not speaking and p >= on:
            speaking = True
            regions.append([i * STEP, (i + 1) * STEP])
        elif speaking:
            if p >= off:
                regions[-1][1] = (i + 1) * STEP
            else:
                speaking = False
    merged: list[list[float]] = []
    for r in regions:
        if merged and r[0] - merged[-1][1] < o.min_silence:
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    return [(round(a, 3), round(min(b, total), 3)) for a, b in merged if b - a >= o.min_speech]


_PROBS = st.lists(st.sampled_from([0.0, 0.2, 0.34, 0.35, 0.36, 0.49, 0.5, 0.51, 0.9, 1.0]), max_size=300)


@settings(max_examples=200, deadline=None)
@given(probs=_PROBS, threshold=st.sampled_from([0.3, 0.5, 0.7]), silence=st.sampled_from([0.0, 0.1, 0.5]),
       shortest=st.sampled_from([0.0, 0.25]))
def test_vectorised_regions_equal_the_chunk_by_chunk_loop(probs, threshold, silence, shortest):
    p = np.array(probs, dtype=np.float32)
    o = DiarizeOptions(vad_threshold=threshold, min_silence=silence, min_speech=shortest)
    total = len(p) * STEP - 0.01
    assert regions_from_probabilities(p, total, o) == _regions_by_loop(p, total, o)


@settings(max_examples=200, deadline=None)
@given(probs=_PROBS, cut=st.floats(0, 1), silence=st.sampled_from([0.05, 0.5]))
def test_regions_settled_early_are_the_first_regions_of_the_finished_file(probs, cut, silence):
    p = np.array(probs, dtype=np.float32)
    o = DiarizeOptions(min_silence=silence)
    total = len(p) * STEP
    known = int(cut * len(p))
    early = regions_from_probabilities(p, total, o, known=known)
    assert early == regions_from_probabilities(p, total, o)[:len(early)]
    # Later chunks settle more, never fewer.
    assert len(regions_from_probabilities(p, total, o, known=min(known + 20, len(p)))) >= len(early)


def test_silhouette_matches_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for n, k in ((40, 2), (120, 3), (9, 4)):
        emb = rng.normal(size=(n, 16)).astype(np.float32)
        emb[: n // 2] += 1.5
        labels = rng.integers(0, k, n)
        labels[:k] = np.arange(k)
        ours = _silhouette(_cosine_distances(emb), labels)
        assert ours == pytest.approx(sklearn_metrics.silhouette_score(emb, labels, metric="cosine"), abs=1e-5)


# ------------------------------------------------------------------------- real models


@pytest.fixture(scope="module")
def interview():
    from tests.pipeline.speakers_support import spoken_interview_or_skip

    return spoken_interview_or_skip()


@pytest.mark.slow
def test_mel_frames_and_embeddings_match_resemblyzer_and_librosa(interview):
    torch = pytest.importorskip("torch")
    librosa = pytest.importorskip("librosa")
    resemblyzer = pytest.importorskip("resemblyzer")
    from resemblyzer import audio as r_audio
    from resemblyzer import hparams

    from pipeline.speakers import load_speaker_model
    from pipeline.voice_encoder import mel_filters, mel_frames

    wav = interview.audio[: 20 * SAMPLE_RATE]
    assert np.array_equal(mel_filters(), librosa.filters.mel(sr=SAMPLE_RATE, n_fft=400, n_mels=40))
    ours = mel_frames(wav)
    theirs = r_audio.wav_to_mel_spectrogram(r_audio.normalize_volume(wav, hparams.audio_norm_target_dBFS,
                                                                     increase_only=True))
    assert ours.shape == theirs.shape
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-6 * float(theirs.max()))
    model = load_speaker_model(threads=1, int8=False)  # the float encoder is resemblyzer's, exactly
    mels = np.stack([ours[k * 50:k * 50 + 150] for k in range(8)])
    reference = resemblyzer.VoiceEncoder(device="cpu", verbose=False)
    with torch.inference_mode():
        expected = reference(torch.from_numpy(mels)).numpy()
    got = model.encoder.run(None, {"mels": mels})[0]
    assert np.abs(got - expected).max() < 1e-5


@pytest.mark.slow
def test_turns_do_not_depend_on_the_thread_count(interview):
    from pipeline.speakers import diarize, load_speaker_model

    one, two = load_speaker_model(threads=1), load_speaker_model(threads=2)
    for options in (DiarizeOptions(), DiarizeOptions(coarse_first=False)):
        assert diarize(interview.audio, SAMPLE_RATE, options, one) == diarize(interview.audio, SAMPLE_RATE,
                                                                              options, two)


@pytest.mark.slow
def test_turns_are_the_same_with_speech_features_made_ahead(interview):
    from pipeline.speakers import DiarizationError, diarize, load_speaker_model, speech_features

    for threads in (1, 2):
        model = load_speaker_model(threads=threads)
        features = speech_features(interview.audio, SAMPLE_RATE, model)
        for options in (DiarizeOptions(), DiarizeOptions(coarse_first=False)):
            assert diarize(interview.audio, SAMPLE_RATE, options, model, features) == diarize(
                interview.audio, SAMPLE_RATE, options, model)
        with pytest.raises(DiarizationError, match="other audio"):
            diarize(interview.audio[: SAMPLE_RATE * 5], SAMPLE_RATE, DiarizeOptions(), model, features)


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    import pickle

    from pipeline.voice_encoder import CheckpointError, read_legacy_checkpoint

    path = tmp_path / "evil.pt"
    with path.open("wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(header, f)
        pickle.dump({"model_state": print}, f)  # a global other than tensors and storages
    with pytest.raises(CheckpointError, match="refused"):
        read_legacy_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        read_legacy_checkpoint(path)


# ------------------------------------------------------------------------- silero in blocks


@settings(max_examples=50, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), kind=st.sampled_from(["f4", "i8", "i1"]))
def test_tensors_read_back_as_written(shape, kind):
    from pipeline.onnx_proto import fields, tensor, tensor_array

    rng = np.random.default_rng(len(shape))
    bound = {"f4": 0, "i8": 2**40, "i1": 128}[kind]
    array = (rng.integers(-bound, bound, shape) if bound else rng.normal(size=shape)).astype(kind)
    back = tensor_array(fields(tensor("t", array)))
    assert back.dtype == array.dtype and np.array_equal(back, array)


def test_a_tensor_of_another_type_is_refused_not_mislabelled():
    from pipeline.onnx_proto import ProtoError, tensor

    with pytest.raises(ProtoError, match="float64"):
        tensor("t", np.zeros(3))


@pytest.mark.slow
def test_silero_in_blocks_gives_the_chunk_by_chunk_probabilities(interview):
    from pipeline.speakers import _packaged_file
    from pipeline.speech_vad import BLOCK, CHUNK, SileroVad, load_silero

    vad = load_silero(_packaged_file("silero_vad", "data/silero_vad.onnx"))
    assert vad.encoder is not None  # the blocked form reproduced silero at load
    wav = interview.audio
    n = int(np.ceil(len(wav) / CHUNK))
    assert n > 2 * BLOCK
    streamed, blocked, reports = np.empty(n, np.float32), np.empty(n, np.float32), []
    SileroVad(vad.stream).probabilities_into(wav, streamed)
    vad.probabilities_into(wav, blocked, reports.append)
    assert np.array_equal(streamed, blocked)
    assert reports == [*range(BLOCK, n, BLOCK), n]
