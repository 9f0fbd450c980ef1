"""Per-process support of the nightly run's workers: the Prefect tasks in flows/nightly.py call
the ingest and export services through `run_probe`, `run_step` and `run_export` here.

Everything here runs inside a worker: a thread of the flow process (local runner) or a Dask
worker process. Heavy things are made once per process and reused: the store handle, the
Whisper backend, the theme flagger. A per-process semaphore keeps CPU-heavy stages to
`heavy_slots` at a time, so on a 2-core machine one transcription owns both cores while other
threads probe files or build proxies.

The stage functions live in `flows.services.ingesting` (the store's per-file steps, each of which
persists its result so a killed run resumes at the first missing step); this module only looks
up what is left to do, times each step and classifies failures.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clips_metadata.workspace import Workspace
from flows.inbox import InboxItem, Sidecar
from flows.services import ingesting
from flows.services.ingesting import STEPS, needs  # noqa: F401 - STEPS: the flow reads it here
from pipeline.errors import CounterclipsError
from pipeline.threads import TRANSCRIBE_THREADS, pin_blas_threads, run_counts


@dataclass(frozen=True, slots=True)
class WorkOptions:
    """What a worker needs besides the file. Plain values only: it travels to Dask workers.

    model / backend: the Whisper model name or path and backend (see TranscribeOptions).
    translate: also produce the English translation of non-English footage (flagging reads
        English; reviewers see both).
    heavy_slots: CPU-heavy stages (transcription, flagging) at once per process: the cores
        over `cpu_threads` (1 on a 2-core machine: one transcription already uses both cores).
    cpu_threads: threads per transcription, fixed per job whatever the worker's cores
        (`pipeline.threads`), so every runner gives the same transcript; recorded in it.
    diarize: False records the diarize step without speakers, as `counterclips ingest
        --no-diarize` does (every sentence counts as the interviewee's); `bench/nightly.py
        --diarize-ab` compares runs with and without it to measure what diarization adds.
    diarize_idle: on 2-3 cores, begin each file's diarization before its Whisper in a helper
        process that runs only on idle cores, and finish it after (`ingesting.
        diarize_while_idle`; the same turns); False diarizes wholly after Whisper. On since the
        quiet-machine A/B of phase 6 (bench/RESULTS.md): after Whisper +5.5 % of ingest wall,
        in the idle-time helper -2.9 % (no cost that three rounds can show).
    """

    model: str = "base"
    backend: str = "faster-whisper"
    translate: bool = True
    heavy_slots: int = field(default_factory=lambda: run_counts().heavy_slots)
    cpu_threads: int = TRANSCRIBE_THREADS
    diarize: bool = True
    diarize_idle: bool = True


@dataclass(frozen=True, slots=True)
class FileJob:
    """One inbox file to bring up to date. Travels to workers, so paths are strings."""

    workspace: str
    db_url: str
    path: str
    sha256: str
    size: int
    sidecar: Sidecar | None
    options: WorkOptions = WorkOptions()

    @property
    def name(self) -> str:
        return Path(self.path).name

    @classmethod
    def of(cls, ws: Workspace, item: InboxItem, options: WorkOptions) -> FileJob:
        return cls(workspace=str(ws.root), db_url=ws.db_url, path=str(item.path), sha256=item.sha256,
                   size=item.size, sidecar=item.sidecar, options=options)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step did for one file. `seconds` is the step's own time (no queueing);
    `ran` is False when the store already had the step's result."""

    sha256: str
    name: str
    step: str
    interview_id: int | None
    ran: bool
    seconds: float = 0.0
    detail: Mapping[str, Any] = field(default_factory=dict)
    worker: str = field(default_factory=lambda: worker_id())  # host:pid that ran the step


class StepFailed(CounterclipsError):
    """A file failed a step for a reason retrying cannot fix (corrupt media, no speech)."""

    def __init__(self, name: str, step: str, reason: str) -> None:
        super().__init__(f"{name}: {step} failed: {reason}")
        self.name = name
        self.step = step
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:  # keeps the fields across Dask's pickling
        return (StepFailed, (self.name, self.step, self.reason))


def worker_id() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def is_transient(exc: BaseException | None) -> bool:
    """Failures worth retrying: the disk or the network, not the content of a file."""
    if exc is None or isinstance(exc, StepFailed):
        return False
    if isinstance(exc, CounterclipsError):
        return False
    if isinstance(exc, (OSError, TimeoutError, ConnectionError)):
        return True
    try:
        from sqlalchemy.exc import DBAPIError, OperationalError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return False
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


# ------------------------------------------------------------- what runs in this process

_ACTIVE_LOCK = threading.Lock()
ACTIVE: Counter[str] = Counter()
"""Steps running in this process right now, by name; `bench/nightly.py` samples it to split a
run's wall time into stages (and the time in none of them: orchestration)."""


_NESTED = threading.local()


@contextmanager
def running(step: str) -> Iterator[None]:
    """Count `step` in ACTIVE while the block runs. A step run inside another on the same thread
    (a file's diarization inside its transcription task) stands in for the outer one meanwhile."""
    stack: list[str] = _NESTED.__dict__.setdefault("steps", [])
    with _ACTIVE_LOCK:
        if stack:
            ACTIVE[stack[-1]] -= 1
        ACTIVE[step] += 1
    stack.append(step)
    try:
        yield
    finally:
        stack.pop()
        with _ACTIVE_LOCK:
            ACTIVE[step] -= 1
            if stack:
                ACTIVE[stack[-1]] += 1


# ----------------------------------------------------------------- per-process resources


class _Resources:
    """Models and store handles made once per process (thread-safe lazy creation). Each kind has
    its own lock, so a thread loading Whisper does not hold up one that only needs the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks = {kind: threading.Lock() for kind in ("store", "backend", "speakers", "flagger")}
        self._stores: dict[str, Any] = {}
        self._backends: dict[tuple[str, str, int], Any] = {}
        self._flagger: Any = None
        self._speakers: Any = None
        self._heavy: threading.BoundedSemaphore | None = None

    def store(self, db_url: str) -> Any:
        with self._locks["store"]:
            store = self._stores.get(db_url)
            if store is None:
                from clips_metadata.store import Store

                store = self._stores[db_url] = Store.open(db_url)
            return store

    def backend(self, options: WorkOptions) -> Any:
        key = (options.backend, options.model, options.cpu_threads)
        with self._locks["backend"]:
            backend = self._backends.get(key)
            if backend is None:
                from pipeline.transcribe import load_backend

                backend = self._backends[key] = load_backend(transcribe_options(options))
            return backend

    def speakers(self) -> Any:
        """The speaker model (silero-vad + resemblyzer), loaded once per process like Whisper."""
        with self._locks["speakers"]:
            if self._speakers is None:
                from pipeline.speakers import load_speaker_model

                self._speakers = load_speaker_model()
            return self._speakers

    def flagger(self, workspace: str | None = None) -> Any:
        """The flagger, with the heads `flagger learn` installed in `workspace` (loaded once)."""
        with self._locks["flagger"]:
            if self._flagger is None:
                from flows.services.flagger_model import load_flagger

                self._flagger = load_flagger(Workspace(Path(workspace)) if workspace else None)
            return self._flagger

    def warm(self, options: WorkOptions, workspace: str) -> None:
        """Load Whisper, the speaker model and the flagger now (the local runner calls this on a
        thread while Prefect starts its server, so the first file does not wait for them). A
        failure here is left for the step that needs the model to raise and report."""
        try:
            self.backend(options)
            if options.diarize:
                self.speakers()
            self.flagger(workspace)
        except Exception as exc:  # noqa: BLE001 - reported by the step that needs it
            logging.getLogger(__name__).debug("warming the models failed: %s", exc)

    def heavy(self, slots: int) -> threading.BoundedSemaphore:
        with self._lock:
            if self._heavy is None:
                self._heavy = threading.BoundedSemaphore(max(1, slots))
            return self._heavy

    def close(self) -> None:
        with self._locks["store"]:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


RESOURCES = _Resources()


def transcribe_options(options: WorkOptions, language: str | None = None) -> Any:
    from pipeline.transcribe import TranscribeOptions

    return TranscribeOptions(backend=options.backend, model=options.model, language=language or None,
                             translate=options.translate, cpu_threads=options.cpu_threads)


# ------------------------------------------------------------------------- the steps


def release_free_memory() -> None:
    """Hand the heap memory freed by a heavy step back to the system (glibc `malloc_trim`).

    Each task thread allocates from its own malloc arena, and Whisper's batched decode frees
    hundreds of MB per file there; unreturned, every arena keeps its high-water mark and the
    process's resident memory creeps up file after file. A no-op where glibc is absent."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_SLOT = threading.local()  # this thread holds a heavy slot for several steps (`run_ingest`)


def _timed(job: FileJob, step: str, interview_id: int | None,
           fn: Callable[[], Mapping[str, Any] | None], heavy: bool = False) -> StepResult:
    """Run one step, classify its failure, measure its own time (after any slot wait)."""
    sem = RESOURCES.heavy(job.options.heavy_slots) if heavy and not getattr(_SLOT, "held", False) else None
    if sem is not None:
        sem.acquire()
    try:
        t0 = time.perf_counter()
        try:
            with running(step):
                detail = fn() or {}
        except CounterclipsError as exc:
            if isinstance(exc, StepFailed):
                raise
            raise StepFailed(job.name, step, str(exc)) from None
        seconds = time.perf_counter() - t0
    finally:
        if sem is not None:
            sem.release()
        if heavy:
            release_free_memory()
    return StepResult(job.sha256, job.name, step, detail.get("interview_id", interview_id), True,
                      seconds, detail)


def _done(job: FileJob, step: str, interview_id: int) -> StepResult:
    return StepResult(job.sha256, job.name, step, interview_id, False, 0.0, {})


def run_probe(job: FileJob) -> StepResult:
    """Probe the file and register its interview (or find it: same bytes, same interview)."""
    begun = HEAD_START.take(job.sha256, "probe")
    return begun if begun is not None else _run_probe(job)


def _run_probe(job: FileJob) -> StepResult:
    store = RESOURCES.store(job.db_url)
    existing = store.find_interview(job.sha256)
    if existing is not None:
        _assign_from_sidecar(store, existing, job)
        return _done(job, "probe", existing.id)

    def go() -> Mapping[str, Any]:
        from clips_metadata.errors import NotFoundError

        try:
            interview = ingesting.probe_step(store, job.path, job.sidecar)
        except NotFoundError as exc:
            # A sidecar naming someone not in the registry: a person must add them first.
            who = job.sidecar.interviewee if job.sidecar else ""
            raise StepFailed(job.name, "probe", f"{exc}; register it with `counterclips interviewee add "
                             f"{who!r}` and move the file back to inbox/") from None
        return {"interview_id": interview.id, "duration": interview.duration}

    return _timed(job, "probe", None, go)


def _assign_from_sidecar(store: Any, interview: Any, job: FileJob) -> None:
    """A sidecar added later to footage filed as "unassigned" assigns it (nothing else moves:
    an interview already assigned to someone is changed only by a person, in the app)."""
    from clips_metadata.errors import NotFoundError
    from clips_metadata.stored_records import UNASSIGNED

    who = job.sidecar.interviewee if job.sidecar else ""
    if who and who != UNASSIGNED and interview.pseudonym not in (UNASSIGNED, who):
        # Ids only in the log; the operator moves footage with `interviewee assign` if it is wrong.
        logging.getLogger(__name__).warning(
            "interview %s: its sidecar names another interviewee than the one it is filed under; "
            "the sidecar is ignored (approved plans stay bound to the filed interviewee)", interview.id)
    if not who or who == UNASSIGNED or interview.pseudonym != UNASSIGNED:
        return
    try:
        store.assign_interview(interview.id, who)
    except NotFoundError:
        pass  # not registered yet: stays unassigned until it is


def already_done(jobs: list[FileJob]) -> dict[str, int]:
    """sha256 -> interview id for the files whose every ingest step is stored: the flow skips
    them without submitting a task (a no-op night costs one query per file, not four tasks)."""
    done: dict[str, int] = {}
    for job in jobs:
        store = RESOURCES.store(job.db_url)
        interview = store.find_interview(job.sha256)
        if interview is None:
            continue
        _assign_from_sidecar(store, interview, job)
        if not any(needs(store, interview.id, step) for step in STEPS[1:]):
            done[job.sha256] = interview.id
    return done


# Each file's diarization, from its transcription's decoded array (after Whisper, or beside it
# where cores are left over: `ingesting.diarize_beside`), handed to its diarize step (popped
# there). Only the turns outlive the transcription, not the 230 MB an hour of decoded audio; a
# future whose diarize step runs in another Dask worker is dropped (that worker diarizes by itself).
_EARLY: dict[str, Any] = {}
_EARLY_LOCK = threading.Lock()
_EARLY_MAX = 3
DIARIZE_SECONDS = "diarize_seconds"  # in a transcribe step's detail: its time spent diarizing


class _DecodeAhead:
    """The next file's audio, decoded while this one's tail runs (local runner). After a file's
    transcription and diarization, its diarize bookkeeping, flagging and proposing run one after
    the other on one core, and the next file is probed; its decode, which would start its
    transcription, runs meanwhile on a thread instead (`pipeline.media.load_audio`, the same
    samples or the same error), and so do its speech probabilities and mel frames, which its
    diarization would otherwise work out after Whisper (`pipeline.speakers.speech_features`, the
    same values). `plan` gives the run's order; only this process takes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._order: list[FileJob] = []
        self._decoded: dict[str, Future[Any]] = {}

    def plan(self, jobs: list[FileJob]) -> None:
        """This run's files in order (a file the head start began decoding stays begun)."""
        with self._lock:
            paths = {j.path for j in jobs}
            self._order = list(jobs)
            self._decoded = {p: f for p, f in self._decoded.items() if p in paths}

    def after(self, job: FileJob, store: Any) -> None:
        """`job`'s heavy work is done: start decoding the next planned file that still needs
        its transcription (one decoded file waits at most: one nobody took, its file having
        failed before, is dropped). Never fails the step that calls it."""
        with self._lock:
            shas = [j.sha256 for j in self._order]
            self._decoded = {}
            if job.sha256 not in shas:
                return
            nxt = next(iter(self._order[shas.index(job.sha256) + 1:]), None)
        if nxt is not None:
            self.begin(nxt, store)

    def begin(self, job: FileJob, store: Any) -> None:
        """Start decoding `job`'s file on a thread, unless its transcript is stored already."""
        try:
            known = store.find_interview(job.sha256)
            if known is not None and store.latest_transcript(known.id) is not None:
                return  # a resumed file: its transcript is stored, nothing to decode
        except Exception:  # noqa: BLE001 - an optimisation only: the step decodes itself
            return
        future: Future[Any] = Future()
        with self._lock:
            self._decoded = {job.path: future}

        def run() -> None:
            from pipeline.media import SAMPLE_RATE, load_audio
            from pipeline.threads import pin_blas_threads

            try:
                audio = load_audio(job.path)
            except BaseException as exc:  # noqa: BLE001 - raised where the audio is taken
                future.set_exception(exc)
                return
            features = None
            if job.options.diarize:
                try:
                    from pipeline.speakers import speech_features

                    pin_blas_threads()  # as where diarization runs: the same mel products, bit for bit
                    features = speech_features(audio, SAMPLE_RATE, RESOURCES.speakers())
                except Exception:  # noqa: BLE001 - the diarization works them out itself and reports
                    features = None
            future.set_result((audio, features))

        threading.Thread(target=run, name="decode-ahead", daemon=True).start()

    def take(self, path: str) -> Any:
        """(samples, speech features or None) of `path` (waiting while it decodes; its decode
        error raised here), or None when it was not decoded ahead."""
        with self._lock:
            future = self._decoded.pop(path, None)
        return None if future is None else future.result()

    def clear(self) -> None:
        with self._lock:
            self._order, self._decoded = [], {}


DECODE_AHEAD = _DecodeAhead()


def _transcribe(store: Any, interview_id: int, job: FileJob) -> Mapping[str, Any]:
    from pipeline.media import load_audio

    audio, features = None, None
    if store.latest_transcript(interview_id) is None:
        ahead = DECODE_AHEAD.take(job.path)
        audio, features = ahead if ahead is not None else (load_audio(job.path), None)
    early = None
    diarize_now = audio is not None and job.options.diarize and needs(store, interview_id, "diarize")
    idle = None
    if diarize_now and ingesting.diarize_beside():
        early, diarize_now = ingesting.diarize_decoded(audio, speakers=RESOURCES.speakers, beside=True), False
    elif diarize_now and job.options.diarize_idle:
        idle = ingesting.diarize_while_idle(audio)
    try:
        info = ingesting.transcribe_step(store, interview_id, transcribe_options(job.options),
                                         backend=RESOURCES.backend(job.options),
                                         workspace=Workspace(Path(job.workspace)), path=job.path, audio=audio)
    except BaseException:
        if idle is not None:
            idle.cancel()  # the helper stops and its copy of the samples goes
        raise
    diarized = 0.0
    if diarize_now:
        t0 = time.perf_counter()
        with running("diarize"):
            early = ingesting.diarize_decoded(audio, speakers=RESOURCES.speakers, features=features,
                                              idle=idle)
        diarized = time.perf_counter() - t0
    if early is not None:
        with _EARLY_LOCK:
            while len(_EARLY) >= _EARLY_MAX:
                _EARLY.pop(next(iter(_EARLY)))
            _EARLY[job.sha256] = early
    del audio, features, idle
    DECODE_AHEAD.after(job, store)
    # the run report gives the diarization done here to its own stage (DIARIZE_SECONDS)
    return {"language": info.language, "duration": info.duration, "transcript_id": info.id,
            DIARIZE_SECONDS: diarized}


def _diarize(store: Any, interview_id: int, job: FileJob) -> Mapping[str, Any]:
    with _EARLY_LOCK:
        early = _EARLY.pop(job.sha256, None)  # None after a resume: the step decodes and diarizes
    if not job.options.diarize:
        found = ingesting.diarize_step(store, interview_id, ingesting.IngestOptions(no_diarize=True),
                                       workspace=Workspace(Path(job.workspace)), path=job.path)
        return {"speakers": list(found.speakers), "interviewee": found.interviewee}
    found = ingesting.diarize_step(store, interview_id, speakers=None if early else RESOURCES.speakers(),
                                   workspace=Workspace(Path(job.workspace)), path=job.path, early=early)
    return {"speakers": list(found.speakers), "interviewee": found.interviewee}


def _flag(store: Any, interview_id: int, job: FileJob) -> Mapping[str, Any]:
    pin_blas_threads()  # the flagger's similarities are numpy products too: same on every runner
    return {"warnings": ingesting.flag_step(store, interview_id, flagger=RESOURCES.flagger(job.workspace))}


def _propose(store: Any, interview_id: int, job: FileJob) -> Mapping[str, Any]:
    pin_blas_threads()
    candidates = ingesting.propose_step(store, interview_id, flagger=RESOURCES.flagger(job.workspace))
    return {"candidates": [c.id for c in candidates]}


# The steps after probing: what runs each, and whether it is CPU-heavy (holds a heavy slot).
_AFTER_PROBE: dict[str, tuple[Callable[[Any, int, FileJob], Mapping[str, Any]], bool]] = {
    "transcribe": (_transcribe, True),
    "diarize": (_diarize, True),
    "flag": (_flag, True),
    "propose": (_propose, False),
}


def run_step(step: str, prev: StepResult, job: FileJob) -> StepResult:
    """Run one ingest step after probing (`flows.services.ingesting`), unless `needs` says the
    store already has its result (or the head start ran it: `HEAD_START`)."""
    begun = HEAD_START.take(job.sha256, step)
    return begun if begun is not None else _run_step(step, prev, job)


def _run_step(step: str, prev: StepResult, job: FileJob) -> StepResult:
    interview_id = prev.interview_id
    store = RESOURCES.store(job.db_url)
    if not needs(store, interview_id, step):
        return _done(job, step, interview_id or 0)
    run, heavy = _AFTER_PROBE[step]
    return _timed(job, step, interview_id, lambda: run(store, interview_id or 0, job), heavy=heavy)


FAILED_STEP = "counterclips_step"
"""Attribute `run_ingest` sets on an error that is not a `StepFailed` (which names its step
itself): the step it came from, for the run report."""


def run_ingest(prev: StepResult, job: FileJob) -> tuple[StepResult, ...]:
    """A probed file's transcribe, diarize, flag and propose steps (`STEPS[1:]`), in order, in
    one task: each step still stores its result, so a run killed anywhere resumes at the first
    missing one (`needs`), but Prefect tracks one task per file instead of four (each task run
    costs Prefect bookkeeping here and in its server, and each hand-over a gap in which nothing
    works: bench/RESULTS.md, nightly phase 7). The heavy slot is held from transcription through
    flagging, so another file's transcription cannot slip in between one file's steps; it is
    let go for proposing (light), which the next file's transcription overlaps."""
    sem = RESOURCES.heavy(job.options.heavy_slots)
    results: list[StepResult] = []
    try:
        for step in STEPS[1:]:
            heavy = _AFTER_PROBE[step][1]
            if heavy != getattr(_SLOT, "held", False):
                if heavy:
                    sem.acquire()
                else:
                    sem.release()
                _SLOT.held = heavy
            try:
                prev = run_step(step, prev, job)
            except StepFailed:
                raise
            except BaseException as exc:
                try:
                    setattr(exc, FAILED_STEP, step)
                except (AttributeError, TypeError):  # an exception type without attributes
                    pass
                raise
            results.append(prev)
    finally:
        if getattr(_SLOT, "held", False):
            _SLOT.held = False
            sem.release()
    return tuple(results)


# ---------------------------------------------------------------------------- head start


class _HeadStart:
    """Work begun in this process before the flow run exists: while Prefect's temporary server
    starts (seconds in which the models load but a core idles), the local runner scans the inbox,
    probes the first file to do and decodes it (with its speech features, `DECODE_AHEAD`),
    through the same functions its tasks call (`scan_inbox`, `already_done`, `run_probe`,
    `load_audio`). The tasks then take these results (`scan`, `take`), waiting for any still
    running, instead of doing the work again, so everything after is the same as without a head
    start. The probe stores its result as it always does, so a run killed meanwhile resumes as
    any other. Only this process's tasks find the results (the local runner).

    Whisper itself does not start early: beside the server's start and the model loading, its
    two threads stall each other (bench/RESULTS.md, nightly phase 5: the first file's
    transcription took 4 s longer that way, and the run was no shorter)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scans: dict[tuple[str, float], Future[Any]] = {}
        self._steps: dict[tuple[str, str], Future[StepResult | None]] = {}
        self._thread: threading.Thread | None = None
        self._abandoned = threading.Event()

    def begin(self, workspace: str, options: WorkOptions, settle_seconds: float) -> None:
        """Start the head start on a thread of its own (one at a time per process)."""
        scan: Future[Any] = Future()
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._scans = {(workspace, float(settle_seconds)): scan}
            self._steps = {}
            self._abandoned.clear()
            self._thread = threading.Thread(target=self._run, args=(workspace, options, settle_seconds, scan),
                                            name="head-start", daemon=True)
            self._thread.start()

    def _run(self, workspace: str, options: WorkOptions, settle_seconds: float, scan: Future[Any]) -> None:
        from flows.inbox import InboxOptions, scan_inbox

        ws = Workspace(Path(workspace))
        steps: list[tuple[str, Future[StepResult | None]]] = []
        try:
            found = scan_inbox(ws, InboxOptions(settle_seconds=settle_seconds))
        except BaseException as exc:  # noqa: BLE001 - the scan task scans again and reports it
            scan.set_exception(exc)
            return
        try:
            jobs = [FileJob.of(ws, item, options) for item in found.items]
            done = already_done(jobs)
            first = next((j for j in jobs if j.sha256 not in done), None)
            if first is not None:
                steps = [("probe", Future())]
                with self._lock:
                    # registered before the scan is handed over: the flow's tasks for this file
                    # come after its scan
                    self._steps.update({(first.sha256, s): f for s, f in steps})
        except BaseException:  # noqa: BLE001 - nothing begun: the tasks do it all
            first = None
        scan.set_result(found)
        if first is None:
            return
        prev: StepResult | None = None
        for step, future in steps:
            if self._abandoned.is_set() or (prev is not None and prev.interview_id is None):
                future.set_result(None)  # not done here: the task does it
                continue
            try:
                prev = _run_probe(first) if prev is None else _run_step(step, prev, first)
            except BaseException as exc:  # noqa: BLE001 - the task that takes it raises it
                future.set_exception(exc)
                for _step, rest in steps[steps.index((step, future)) + 1:]:
                    rest.set_result(None)
                return
            future.set_result(prev)
        if prev is not None and prev.interview_id is not None and not self._abandoned.is_set():
            DECODE_AHEAD.begin(first, RESOURCES.store(first.db_url))

    def scan(self, workspace: str, settle_seconds: float) -> Any:
        """This run's inbox scan when the head start made it (None: scan now)."""
        with self._lock:
            future = self._scans.pop((workspace, float(settle_seconds)), None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the scan task scans again and reports the error
            return None

    def take(self, sha256: str, step: str) -> StepResult | None:
        """The file's `step` as the head start ran it (waiting while it runs), or None when it did
        not run it; a failure is raised here, in the task, as if the task had met it."""
        with self._lock:
            future = self._steps.pop((sha256, step), None)
        return None if future is None else future.result()

    def finish(self, wait: bool = True) -> None:
        """End of the run: wait for the thread (`wait`), or let it stop before its next step (a
        failed run), and forget what no task took."""
        self._abandoned.set()
        thread = self._thread
        if wait and thread is not None:
            thread.join()
        with self._lock:
            self._scans, self._steps = {}, {}


HEAD_START = _HeadStart()


# ------------------------------------------------------------------------------ exports


def exports_due(db_url: str, profiles: tuple[str, ...]) -> list[int]:
    """Approved candidates due an export (flows.services.exporting.exports_due)."""
    from flows.services.exporting import exports_due as due

    return due(RESOURCES.store(db_url), profiles)


def run_export(ws: Workspace, db_url: str, candidate_id: int, profiles: tuple[str, ...]) -> Any:
    """Render the approved candidate in each profile through `export_candidate`, the same
    service `counterclips export` and the review app call (it records each export).

    A gate refusal (consent does not cover it, footage still unassigned, approval gone stale) is
    an outcome, not a failure of the run: it is reported as "refused" with the gate's reason.
    """
    import os

    from flows.report import ExportOutcome
    from flows.services.exporting import export_candidate
    from review.export_settings import ExportSettings
    from review.gate import GateRefused

    t0 = time.perf_counter()
    store = RESOURCES.store(db_url)
    paths: list[str] = []
    try:
        for profile in profiles:
            settings = ExportSettings(profile=profile, actor=os.environ.get("USER", "cli"))
            paths.extend(export_candidate(store, ws, candidate_id, settings).paths)
    except GateRefused as exc:
        return ExportOutcome(candidate_id, "refused", reason=str(exc), seconds=time.perf_counter() - t0)
    except CounterclipsError as exc:
        return ExportOutcome(candidate_id, "failed", reason=str(exc), seconds=time.perf_counter() - t0)
    return ExportOutcome(candidate_id, "exported", tuple(paths), seconds=time.perf_counter() - t0)
