"""Worker and thread counts (issue 19): from the cores, operator overrides first, never zero."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.threads import TRANSCRIBE_THREADS, run_counts


def test_two_cores_give_one_transcription_of_two_threads_and_three_workers():
    c = run_counts(cores=2)
    assert (c.transcribe_threads, c.heavy_slots, c.workers) == (TRANSCRIBE_THREADS, 1, 3)


def test_more_cores_add_transcriptions_not_threads_per_job():
    c = run_counts(cores=8)
    assert (c.transcribe_threads, c.heavy_slots, c.workers) == (2, 4, 6)


def test_operator_overrides_win():
    c = run_counts(cores=8, workers=2, transcribe_threads=4)
    assert (c.transcribe_threads, c.heavy_slots, c.workers) == (4, 2, 2)


_COUNT = st.one_of(st.none(), st.integers(1, 64))


@given(st.integers(0, 256), _COUNT, _COUNT)
def test_counts_are_always_positive(cores, workers, threads):
    c = run_counts(cores=cores, workers=workers, transcribe_threads=threads)
    assert c.transcribe_threads >= 1 and c.heavy_slots >= 1 and c.workers >= 1
    if threads is None:
        assert c.transcribe_threads <= TRANSCRIBE_THREADS
