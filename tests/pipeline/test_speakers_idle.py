"""Diarization begun in the idle-time helper process and finished after Whisper (issue 16, phase 6):
the turns are `diarize`'s, bit for bit, however far the helper got; encoder batches it finished
are not run again; without a helper, diarization simply runs here."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from pipeline.speakers import SAMPLE_RATE, DiarizeOptions


class _Trip:
    """A stop that trips after `after` encoder batches have been stored in `cache`."""

    def __init__(self, cache, after: int) -> None:
        self.cache, self.after = cache, after

    def is_set(self) -> bool:
        return len(self.cache) >= self.after


class _CountingEncoder:
    """The real encoder session, counting the windows it embeds."""

    def __init__(self, session) -> None:
        self.session, self.windows = session, 0

    def run(self, names, feeds):
        self.windows += len(feeds["mels"])
        return self.session.run(names, feeds)


def test_without_a_helper_the_job_is_none(monkeypatch):
    from pipeline import idle_diarization

    helper = idle_diarization.IdleHelper()
    monkeypatch.setattr(idle_diarization.sys, "executable", "/nonexistent/python")
    assert helper.begin(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, DiarizeOptions()) is None
    assert helper.start() is False  # it does not try again on every file


def test_messages_read_back_whole_through_a_pipe():
    import os

    from pipeline.idle_diarization import _receive, _send

    r, w = os.pipe()
    big = ("result", 3, None, np.arange(50_000, dtype=np.float32), [((1, 2, 150), np.ones((16, 256)))])

    def write() -> None:  # more than a pipe holds: written while the other end reads
        with os.fdopen(w, "wb", buffering=0) as out:
            _send(out, big)

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(r, "rb", buffering=0) as inp:
        got = _receive(inp)
        writer.join()
        assert _receive(inp) is None  # end of stream
    assert got[:3] == big[:3] and np.array_equal(got[3], big[3]) and got[4][0][0] == (1, 2, 150)


# ------------------------------------------------------------------------- real models


@pytest.fixture(scope="module")
def interview():
    from tests.pipeline.speakers_support import spoken_interview_or_skip

    return spoken_interview_or_skip()


@pytest.mark.slow
def test_batches_finished_before_a_stop_are_reused_and_the_turns_do_not_change(interview):
    from dataclasses import replace

    from pipeline.speakers import (
        DiarizationStopped,
        EncoderCache,
        diarize,
        diarize_until,
        load_speaker_model,
        speech_features,
    )

    model = load_speaker_model(threads=2)
    features = speech_features(interview.audio, SAMPLE_RATE, model)
    plain = diarize(interview.audio, SAMPLE_RATE, DiarizeOptions(), model, features)
    for after in (0, 1, 3):
        cache = EncoderCache()
        one = replace(model, threads=1)
        with pytest.raises(DiarizationStopped):
            diarize_until(interview.audio, SAMPLE_RATE, DiarizeOptions(), one, features, cache,
                          _Trip(cache, after))
        assert len(cache) == after
        done = sum(len(v) for _, v in cache.items())
        counting = _CountingEncoder(model.encoder)
        finished = diarize(interview.audio, SAMPLE_RATE, DiarizeOptions(), replace(model, encoder=counting),
                           features, cache)
        assert finished == plain
        full = _CountingEncoder(model.encoder)
        diarize(interview.audio, SAMPLE_RATE, DiarizeOptions(), replace(model, encoder=full), features)
        assert counting.windows == full.windows - done  # a finished batch is not run again


@pytest.mark.slow
def test_the_helper_process_gives_the_turns_of_diarize(interview):
    from pipeline.idle_diarization import IdleHelper
    from pipeline.speakers import diarize, load_speaker_model

    model = load_speaker_model()
    plain = diarize(interview.audio, SAMPLE_RATE, DiarizeOptions(), model)
    helper = IdleHelper(idle=False)  # the normal class: a busy test machine leaves no idle core
    try:
        assert helper.start()
        # Stopped at once (the helper may still be loading its model): worked out here.
        job = helper.begin(interview.audio, SAMPLE_RATE, DiarizeOptions())
        assert job is not None and job.finish(interview.audio, model) == plain
        # Given time, the helper finishes by itself and its turns are taken (`received` empty).
        for wait in (5, 20, 60):
            job = helper.begin(interview.audio, SAMPLE_RATE, DiarizeOptions())
            assert job is not None
            time.sleep(wait)
            assert job.finish(interview.audio, model) == plain
            if not job.received:
                break
        assert job.received == {}
    finally:
        helper.close()
