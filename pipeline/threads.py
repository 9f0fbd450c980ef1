"""How many threads and workers a run uses, and the pinning that keeps transcripts identical.

One file must give one transcript wherever it runs (the local runner, a Dask worker, a re-run).
Measured on faster-whisper 1.2 / CTranslate2 4.6: CTranslate2's own thread count (1, 2 or 4)
did not change the text, but numpy's OpenBLAS thread count did (the log-mel features are a
matrix product; a Dask worker process starts with OPENBLAS/OMP_NUM_THREADS=1, this process
with one thread per core): 7 of 10 files read differently. So every transcription pins BLAS to
`BLAS_THREADS` and runs CTranslate2 with a fixed `TRANSCRIBE_THREADS`, whatever the host.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TRANSCRIBE_THREADS = 2
"""CTranslate2 threads per transcription job: fixed, recorded in the transcript."""

BLAS_THREADS = 1
"""numpy BLAS threads while transcribing or flagging: fixed, so features are bit-identical."""


def pin_blas_threads() -> None:
    """Set this process's BLAS thread pools to `BLAS_THREADS` and leave them so.

    Not a context manager on purpose: the limit is process-wide, and restoring it when one
    thread finishes would change it under another thread still transcribing."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=BLAS_THREADS, user_api="blas")


@dataclass(frozen=True, slots=True)
class RunCounts:
    """How a run spreads over the machine.

    transcribe_threads: CTranslate2 threads per transcription (fixed per job, see above).
    heavy_slots: transcriptions (and flaggings) at once per process.
    workers: threads of the local task runner: the heavy slots plus two for probing and the
        ffmpeg proxy encodes, which run as subprocesses beside transcription.
    """

    transcribe_threads: int
    heavy_slots: int
    workers: int


def run_counts(cores: int | None = None, workers: int | None = None,
               transcribe_threads: int | None = None) -> RunCounts:
    """Counts for `cores` (default: the cores this process may use), with the operator's
    overrides (`counterclips run --workers N --transcribe-threads N`) taking precedence."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cores = max(1, cores)
    threads = max(1, transcribe_threads or min(TRANSCRIBE_THREADS, cores))
    slots = max(1, cores // threads)
    return RunCounts(transcribe_threads=threads, heavy_slots=slots, workers=max(1, workers or slots + 2))
