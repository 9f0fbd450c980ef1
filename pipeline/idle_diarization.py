"""Diarization in a helper process that runs only on otherwise idle cores, beside Whisper.

On 2-3 cores Whisper's two threads own the machine yet leave a core idle in their serial moments
(feature extraction, Python between model calls, word alignment). A thread of the ingesting
process cannot take them: at idle priority it is descheduled while it holds the interpreter lock,
and Whisper's own Python then waits for it (Whisper 17-57 % slower under load, bench/RESULTS.md,
"Diarization, phase 6"). A child process has its own lock: in Linux's idle scheduling class
(`SCHED_IDLE`; nice 19 where that is refused) it runs only on a core nothing else wants, and
yields the core the moment a Whisper thread wakes.

`IdleHelper.begin(audio, options)` hands a file's samples to the child (a file in /dev/shm)
before Whisper starts; after Whisper, `IdleJob.finish(audio, model, features)` stops the child
and takes what it finished: the turns, or its speech features and encoder batches, from which the
diarization completes on the calling thread (`pipeline.speakers.diarize` with an
`EncoderCache`). The turns are those of `diarize`, bit for bit, however far the child got.

On by default since the quiet-machine A/B of phase 6 (`bench/nightly.py --diarize-ab N`,
bench/RESULTS.md), in the nightly run (`flows.nightly_worker.WorkOptions.diarize_idle`) and in
`counterclips ingest` (`flows.services.ingesting.IngestOptions.diarize_idle`).
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.speakers import (
    DiarizationStopped,
    DiarizeOptions,
    EncoderCache,
    SpeakerModel,
    SpeakerTurn,
    SpeechFeatures,
    diarize,
)

# How long `finish` waits for the child's answer once Whisper is done: the child ends the encoder
# batch it is in (~40 ms on a free core) and answers; a child starved by other work is not
# waited for (the diarization then runs here from scratch, as without a helper).
ANSWER_WAIT = 0.1


def _idle_class() -> bool:
    """Put this process in the idle scheduling class (True), or at nice 19 where refused."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return True
    except (AttributeError, OSError):
        try:
            os.nice(19 - os.nice(0))
        except OSError:
            pass
        return False


def _send(stream: Any, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _receive(stream: Any) -> Any:
    """The next message, or None at end of stream. Both ends are this module, parent and its own
    child over their private pipes: nothing else writes to them."""
    head = _read_exact(stream, 8)
    if head is None:
        return None
    data = _read_exact(stream, struct.unpack("<Q", head)[0])
    return None if data is None else pickle.loads(data)  # noqa: S301 - our own child's pipe


def _read_exact(stream: Any, size: int) -> bytes | None:
    """`size` bytes from an unbuffered stream (whose reads may return less), None at its end.
    Unbuffered, so `select` on the pipe sees every message not yet read."""
    parts, left = [], size
    while left:
        part = stream.read(left)
        if not part:
            return None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class _Pending:
    """Set once a message waits on the parent's pipe: the parent has moved on (collect, or the
    next file), so the job in hand stops at its next encoder batch."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def is_set(self) -> bool:
        return bool(select.select([self.fd], [], [], 0)[0])


def _serve(idle: bool = True) -> None:
    """The child (`python -m pipeline.idle_diarization [--normal]`): load the speaker model, then
    diarize each job until a message waits; answer each "collect" with what that job finished.
    `idle` False keeps the normal scheduling class (tests)."""
    if idle:
        _idle_class()
    from pipeline.speakers import diarize_until, load_speaker_model, speech_features
    from pipeline.threads import pin_blas_threads

    pin_blas_threads()  # as the parent, where transcription pins BLAS: the same products
    model = load_speaker_model(threads=1)
    inbox, outbox = os.fdopen(sys.stdin.fileno(), "rb", buffering=0), sys.stdout.buffer
    stop = _Pending(inbox.fileno())
    finished: dict[int, tuple[Any, ...]] = {}
    while (msg := _receive(inbox)) is not None:
        if msg[0] == "collect":
            _send(outbox, ("result", msg[1], *finished.pop(msg[1], (None, None, [])), model.model_id))
            continue
        _, job, path, sample_rate, options = msg
        cache, features, turns = EncoderCache(), None, None
        try:
            audio = np.asarray(np.load(path, mmap_mode="r"))
            if not stop.is_set():
                features = speech_features(audio, sample_rate, model)
            if not stop.is_set():
                turns = diarize_until(audio, sample_rate, options, model, features, cache, stop)
        except DiarizationStopped:
            pass
        except Exception:  # noqa: BLE001 - the parent diarizes itself and meets the error there
            turns = None
        finished = {job: (turns, None if turns is not None else features,
                          [] if turns is not None else cache.items())}


@dataclass(slots=True)
class IdleJob:
    """One file given to the helper; `finish` after Whisper."""

    helper: IdleHelper
    job: int
    path: str
    sample_rate: int
    options: DiarizeOptions
    received: dict[str, Any] = field(default_factory=dict)

    def finish(self, audio: np.ndarray, model: SpeakerModel,
               features: SpeechFeatures | None = None) -> tuple[SpeakerTurn, ...]:
        """The turns of `audio` (the samples given to `begin`): the child's if it finished, else
        worked out here (the model's threads) from the features and encoder batches it did."""
        answer = self.helper.collect(self.job)
        _remove(self.path)
        turns, their_features, batches = answer if answer is not None else (None, None, [])
        if self.helper.child_model != model.model_id:
            # Another encoder (float / int8) than the one finishing: its speech features hold
            # (the encoder does not make them), its turns and batches do not.
            turns, batches = None, []
        if turns is not None:
            return tuple(turns)
        cache = EncoderCache()
        for key, value in batches:
            cache.put(key, value)
        self.received = {"batches": len(batches), "features": their_features is not None}
        return diarize(audio, self.sample_rate, self.options, model, features or their_features, cache)

    def cancel(self) -> None:
        """Stop the job unused (its Whisper failed) and free its samples in /dev/shm."""
        self.helper.collect(self.job)
        _remove(self.path)


class IdleHelper:
    """The per-process helper: a child process (`python -m pipeline.idle_diarization`) in the
    idle scheduling class, started on first use or by `start` (the nightly starts it while its
    server starts). Where none can start, `begin` returns None and diarization runs after
    Whisper as before."""

    def __init__(self, idle: bool = True) -> None:
        self.idle = idle  # False: the child keeps the normal scheduling class (tests)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._jobs = 0
        self._broken = False
        self.child_model: str | None = None  # the child's SpeakerModel.model_id, from its answers

    def start(self) -> bool:
        """Start the child if it is not running; False when it cannot run here."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return True
            if self._broken:
                return False
            _sweep_stale()
            root = str(Path(__file__).resolve().parent.parent)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "pipeline.idle_diarization", *([] if self.idle else ["--normal"])],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=root, bufsize=0)
            except OSError:
                self._broken = True
                return False
            return True

    def begin(self, audio: np.ndarray, sample_rate: int, options: DiarizeOptions) -> IdleJob | None:
        """Give the child `audio` to diarize while Whisper runs; None when there is no child."""
        if not self.start():
            return None
        fd, path = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".npy", dir=_shm_dir())
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(audio, dtype=np.float32))
            with self._lock:
                self._jobs += 1
                job = self._jobs
                assert self._proc is not None and self._proc.stdin is not None
                _send(self._proc.stdin, ("job", job, path, sample_rate, options))
        except Exception:  # noqa: BLE001 - an optimisation only
            _remove(path)
            return None
        return IdleJob(self, job, path, sample_rate, options)

    def collect(self, job: int) -> tuple[Any, Any, list[Any]] | None:
        """Stop `job` and take the child's answer (None: it did not answer in `ANSWER_WAIT`;
        a late answer is skipped by the next collect)."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None or proc.stdout is None:
                return None
            try:
                _send(proc.stdin, ("collect", job))
                out = proc.stdout
                while select.select([out], [], [], ANSWER_WAIT)[0]:
                    msg = _receive(out)
                    if msg is None:
                        raise EOFError
                    if msg[0] == "result" and msg[1] == job:
                        self.child_model = msg[5]
                        return msg[2], msg[3], msg[4]
            except (EOFError, OSError, pickle.UnpicklingError):
                self._proc = None
                proc.kill()
            return None

    def cpu_seconds(self) -> float:
        """CPU seconds the running child has used (0 without one; Linux /proc), for benchmarks:
        a child not yet waited for is in no rusage of this process."""
        proc = self._proc
        if proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def close(self) -> None:
        """End the child (closing its input ends its loop)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()


def _shm_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


_PREFIX = "counterclips-diarize-"


def _sweep_stale() -> None:
    """Remove samples left in the temp dir by processes that died between `begin` and `finish`
    (an hour of audio is 230 MB of memory in /dev/shm)."""
    folder = Path(_shm_dir() or tempfile.gettempdir())
    for path in folder.glob(f"{_PREFIX}*-*.npy"):
        pid = path.name[len(_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _remove(str(path))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


HELPER = IdleHelper()
"""The process's helper (`flows.nightly_worker` begins each file's diarization with it)."""


if __name__ == "__main__":
    _serve(idle="--normal" not in sys.argv[1:])
