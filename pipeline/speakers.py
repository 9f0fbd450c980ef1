"""Who speaks when: offline diarization, words labelled with speakers, the interviewee chosen.

Speech is found by silero-vad (its ONNX model, run directly with onnxruntime), each speech
region is cut into overlapping windows embedded by resemblyzer's voice encoder (`pretrained.pt`
inside its wheel, run on onnxruntime by `pipeline.voice_encoder`: neither torch nor librosa is
imported), the windows are clustered (average-linkage
agglomerative on cosine distance, outlier clusters folded into speakers, the speaker count
chosen by silhouette in 2..6 unless forced),
and every 10 ms speech frame takes the speaker its covering windows are closest to. Both weight
files are checked against their wheel RECORD and a pinned sha256 before use; nothing downloads.

Speaker labels are "S1", "S2"... in order of first appearance. Times are float seconds.
"""

from __future__ import annotations

import math
import os
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import ModelError
from pipeline.records import Segment, Sentence, SentenceFlags, Transcript, Word

if TYPE_CHECKING:
    from pipeline.idle_diarization import IdleJob

SAMPLE_RATE = 16000
_VAD_CHUNK = 512  # samples per silero step at 16 kHz (32 ms)
_HOP = 0.01  # seconds per mel frame (resemblyzer: 10 ms step, 25 ms window, 40 mels)
_BATCH = 16  # windows per encoder run: fixed, so an embedding never depends on the thread count

# sha256 of the weight files per pinned package version (pyproject pins both wheels).
KNOWN_SHA256 = {
    ("resemblyzer", "0.1.4", "pretrained.pt"):
        "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    ("silero_vad", "6.2.3", "silero_vad.onnx"):
        "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
}


class DiarizationError(Exception):
    """Diarization could not run on this audio (wrong shape, rate or no usable samples)."""


class DiarizationStopped(Exception):
    """A diarization begun while a core was idle was told to stop (its caller finishes it)."""


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """One speaker talking from `start` to `end` seconds."""

    start: float
    end: float
    speaker: str

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class DiarizeOptions:
    """How speakers are found.

    num_speakers: force this many speakers (`ingest --speakers N`); None finds 2..6 by itself.
    min_speakers / max_speakers: the automatic range (2 / 6: an interview has at least two
        voices; more than six is a panel, not an interview).
    vad_threshold: silero speech probability that starts speech (0.5, silero's default); it
        stops below vad_threshold - 0.15.
    min_speech / min_silence: drop speech shorter than this, bridge silences shorter than this
        (0.25 s / 0.5 s: a pause between sentences is not a turn change; a speaker change
        inside a region is still found frame by frame).
    window / step: seconds of speech per embedding and between window starts (1.5 / 0.25:
        resemblyzer was trained on 1.6 s partials; a 0.25 s step resolves quick exchanges).
    min_window: a speech region shorter than this is labelled from its neighbours rather than
        embedded on its own (0.5 s: shorter embeddings are noise).
    min_turn: a turn shorter than this between two turns of one other speaker is folded into
        them (0.4 s).
    min_speaker_time: a cluster of windows covering less speech than this many seconds is an
        outlier (noise, a laugh) that joins its nearest speaker, not a speaker of its own (2.0).
    coarse_first: embed every region once per `window` first, cluster those, and re-embed at the
        fine `step` only regions whose windows disagree or whose best two speakers are within
        `refine_margin` cosine similarity (True / 0.06: about half the embeddings at the same error
        on the phone call and the synthetic interviews, bench/RESULTS.md).
    """

    num_speakers: int | None = None
    min_speakers: int = 2
    max_speakers: int = 6
    vad_threshold: float = 0.5
    min_speech: float = 0.25
    min_silence: float = 0.5
    window: float = 1.5
    step: float = 0.25
    min_window: float = 0.5
    min_turn: float = 0.4
    min_speaker_time: float = 2.0
    coarse_first: bool = True
    refine_margin: float = 0.06

    def __post_init__(self) -> None:
        if self.num_speakers is not None and not 1 <= self.num_speakers <= 20:
            raise ValueError("num_speakers must be between 1 and 20")
        if not 1 <= self.min_speakers <= self.max_speakers:
            raise ValueError("need 1 <= min_speakers <= max_speakers")
        if self.window <= 0 or self.step <= 0:
            raise ValueError("window and step must be positive")


@dataclass(frozen=True, slots=True)
class SpeakerModel:
    """The loaded VAD session and voice encoder; load once with `load_speaker_model`, pass in."""

    vad: Any  # pipeline.speech_vad.SileroVad over silero_vad.onnx
    encoder: Any  # onnxruntime.InferenceSession over resemblyzer's encoder (pipeline.voice_encoder)
    vad_sha256: str
    encoder_sha256: str
    # threads > 1: silero beside the encoder, and that many encoder batches at once (each run on
    # one thread, so the turns never depend on it)
    threads: int = 1
    int8: bool = False  # the encoder's LSTM layers 2-3 quantized (`pipeline.voice_encoder.encoder_graph`)

    @property
    def model_id(self) -> str:
        """What the store records as the diarization model: both weight files, and int8."""
        quantized = " int8" if self.int8 else ""
        return f"silero-vad {self.vad_sha256[:12]} + resemblyzer {self.encoder_sha256[:12]}{quantized}"


def _packaged_file(package: str, relative: str) -> Path:
    """A weight file inside an installed package, checked against its wheel RECORD and pin."""
    from pipeline.packaged_models import verified_package_file

    dist = "Resemblyzer" if package == "resemblyzer" else package.replace("_", "-")
    return verified_package_file(package, relative, dist, KNOWN_SHA256)


def load_speaker_model(threads: int | None = None, int8: bool = True) -> SpeakerModel:
    """Load silero-vad (ONNX) and resemblyzer's encoder from their wheels, offline, checksummed.

    `int8`: the encoder's second and third LSTM layers run quantized (int8 weights per column,
    inputs quantized per call): 1.8x less encoder CPU, the same errors on the phone call and the
    synthetic interviews (bench/RESULTS.md, phase 8). The first layer stays float: its input is
    power mel, whose range one quantization step per call cannot cover.

    Both run single-threaded per call (on a busy 2-core machine, intra-op threads cost 10x the
    CPU time in contention). `threads`: encoder batches embedded at once, on threads of their own
    (default: 2, or 1 on a single core). Diarization runs after Whisper on 2-3 cores, when both
    cores are free; every batch is the same fixed set of windows whichever thread runs it, so the
    turns do not depend on `threads`."""
    try:
        import onnxruntime  # noqa: F401 - fail early, with the message below

        from pipeline.speech_vad import load_silero
        from pipeline.voice_encoder import load_encoder
    except ImportError as exc:
        raise ModelError(f"speaker model dependencies missing ({exc})") from None
    vad_path = _packaged_file("silero_vad", "data/silero_vad.onnx")
    enc_path = _packaged_file("resemblyzer", "pretrained.pt")
    vad = load_silero(vad_path)
    try:
        encoder = load_encoder(enc_path, int8=int8)
    except Exception as exc:  # noqa: BLE001 - CheckpointError, or onnxruntime's own untyped errors
        raise ModelError(f"cannot load the voice encoder: {exc!s:.200}") from None
    from pipeline.atomic import file_sha256

    if threads is None:
        threads = min(2, os.cpu_count() or 1)
    model = SpeakerModel(vad, encoder, file_sha256(vad_path), file_sha256(enc_path), max(1, threads), int8)
    _warm_up(model)
    return model


def _warm_up(model: SpeakerModel) -> None:
    """Run both models and the clustering once on a little noise: their first runs allocate (and
    the clustering imports scipy's, ~0.4 CPU-s), a cost that belongs to loading, not to the first
    file."""
    from pipeline.voice_encoder import mel_frames

    noise = np.random.default_rng(0).normal(0, 0.01, SAMPLE_RATE * 2).astype(np.float32)
    speech_probabilities(noise, model)
    emb = _embed(mel_frames(noise), [(0.0, 1.5), (0.25, 1.75), (0.5, 2.0)], model)
    _cluster(emb, DiarizeOptions(min_speaker_time=0.0))


# ------------------------------------------------------------------------------ diarization


def diarize(
    audio: np.ndarray,
    sample_rate: int,
    options: DiarizeOptions = DiarizeOptions(),
    model: SpeakerModel | None = None,
    features: SpeechFeatures | None = None,
    cache: EncoderCache | None = None,
) -> tuple[SpeakerTurn, ...]:
    """Speaker turns of mono `audio` (float samples in [-1, 1]), in time order, labelled S1.. by
    first appearance. `model` defaults to a fresh `load_speaker_model()` (load once and pass it).
    `features`: `speech_features` of the same audio and model, worked out beforehand (the same
    turns; they are then not worked out again). `cache`: encoder batches of the same audio
    already run (`diarize_while_idle`), reused bit for bit."""
    wav = _prepare(audio, sample_rate)
    if model is None:
        model = load_speaker_model()
    first = replace(options, step=options.window) if options.coarse_first else options
    token = _CACHE.set(cache)
    try:
        return _diarize(wav, options, model, first, features)
    finally:
        _CACHE.reset(token)


def _diarize(wav: np.ndarray, options: DiarizeOptions, model: SpeakerModel, first: DiarizeOptions,
             features: SpeechFeatures | None) -> tuple[SpeakerTurn, ...]:
    regions, mel, windows, embeddings = _first_pass(wav, model, options, first, features)
    if not regions:
        return ()
    centroids = None
    if options.coarse_first:
        windows, embeddings, centroids = _coarse_then_fine(mel, regions, windows, embeddings, options, model)
    if not windows:
        # Only very short speech: one speaker is all that can be said.
        return _label(tuple(SpeakerTurn(a, b, "0") for a, b in regions))
    if centroids is None:
        labels = _cluster(embeddings, options)
        centroids = np.stack([_unit(embeddings[labels == k].mean(axis=0)) for k in range(labels.max() + 1)])
    turns = _frame_turns(regions, windows, embeddings @ centroids.T)
    return _label(_fold_short(turns, options.min_turn))


Diarized = tuple[tuple[SpeakerTurn, ...], SpeakerModel]
"""The turns found and the model that found them (its checksums name it in the store)."""


def diarize_into_future(
    audio: np.ndarray,
    sample_rate: int,
    options: DiarizeOptions,
    load_model: Callable[[], SpeakerModel],
    features: SpeechFeatures | None = None,
    idle: IdleJob | None = None,
) -> Future[Diarized]:
    """`diarize` on this thread, as a finished future of (turns, model); a failure is held in the
    future, so whoever reads it (the diarize step) fails, not the caller (the transcription).
    `idle`: the same diarization begun while a core was idle, finished here."""
    future: Future[Diarized] = Future()
    future.set_running_or_notify_cancel()
    _diarize_into(future, audio, sample_rate, options, load_model, features, idle)
    return future


def diarize_in_background(
    audio: np.ndarray,
    sample_rate: int,
    options: DiarizeOptions,
    load_model: Callable[[], SpeakerModel],
) -> Future[Diarized]:
    """Start `diarize` on a thread of its own and return its future (the turns and the model).

    For machines with cores Whisper's fixed two threads leave idle (ingest decides:
    `flows.services.ingesting.diarize_beside`); on 2 cores it stalls Whisper instead. The result
    does not depend on the overlap: both models run on fixed thread counts. The thread runs at a
    lower CPU priority (nice +10), so it takes the cores' idle time rather than preempting
    Whisper's threads. `load_model` (e.g. a per-process cache) runs on that thread too."""
    future: Future[Diarized] = Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        _lower_priority()
        _diarize_into(future, audio, sample_rate, options, load_model)

    threading.Thread(target=run, name="diarize", daemon=True).start()
    return future


def _diarize_into(future: Future[Diarized], audio: np.ndarray, sample_rate: int, options: DiarizeOptions,
                  load_model: Callable[[], SpeakerModel], features: SpeechFeatures | None = None,
                  idle: IdleJob | None = None) -> None:
    try:
        from pipeline.threads import pin_blas_threads

        # As in a run where diarization follows transcription (which pins BLAS): the same
        # clustering products, bit for bit, on whichever thread it runs.
        pin_blas_threads()
        model = load_model()
        if idle is not None:
            turns = idle.finish(audio, model, features)
        else:
            turns = diarize(audio, sample_rate, options, model, features)
        future.set_result((turns, model))
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
        future.set_exception(exc)


class EncoderCache:
    """Encoder batches already run on one file's mel frames, by their windows (the same batch,
    the same bits): what a diarization begun while Whisper left a core idle
    (`pipeline.idle_diarization`) hands to the one that finishes it."""

    def __init__(self) -> None:
        self._done: dict[tuple[int, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, ...]) -> np.ndarray | None:
        with self._lock:
            return self._done.get(key)

    def put(self, key: tuple[int, ...], embeddings: np.ndarray) -> None:
        with self._lock:
            self._done[key] = embeddings

    def __len__(self) -> int:
        with self._lock:
            return len(self._done)

    def items(self) -> list[tuple[tuple[int, ...], np.ndarray]]:
        with self._lock:
            return list(self._done.items())


def diarize_until(audio: np.ndarray, sample_rate: int, options: DiarizeOptions, model: SpeakerModel,
                  features: SpeechFeatures, cache: EncoderCache, stop: Any) -> tuple[SpeakerTurn, ...]:
    """`diarize`, storing every encoder batch in `cache`, raising `DiarizationStopped` before
    the next batch once `stop.is_set()` (what an idle-time helper runs)."""
    token = _STOP.set(stop)
    try:
        return diarize(audio, sample_rate, options, model, features, cache)
    finally:
        _STOP.reset(token)


_CACHE: ContextVar[EncoderCache | None] = ContextVar("encoder_cache", default=None)
_STOP: ContextVar[Any] = ContextVar("diarize_stop", default=None)  # anything with is_set()


def _lower_priority(niceness: int = 10) -> None:
    """Lower this thread's CPU priority (Linux gives each thread its own nice value); elsewhere,
    or when not permitted, the thread keeps its priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):
        pass


def _prepare(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    wav = np.asarray(audio, dtype=np.float32)
    if wav.ndim == 2:
        # (samples, channels) or (channels, samples): mix down along the short axis.
        wav = wav.mean(axis=int(np.argmin(wav.shape)))
    if wav.ndim != 1:
        raise DiarizationError(f"audio must be mono or (samples, channels), got shape {wav.shape}")
    if sample_rate <= 0:
        raise DiarizationError(f"bad sample rate {sample_rate}")
    if sample_rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        g = math.gcd(SAMPLE_RATE, int(sample_rate))
        wav = resample_poly(wav, SAMPLE_RATE // g, int(sample_rate) // g).astype(np.float32)
    if not np.all(np.isfinite(wav)):
        raise DiarizationError("audio contains NaN or infinite samples")
    return wav


@dataclass(frozen=True, slots=True)
class SpeechFeatures:
    """What `diarize` works out of the audio before any embedding: silero's speech probability
    per 32 ms chunk and the mel frames (`speech_features`)."""

    probabilities: np.ndarray
    mel: np.ndarray


def speech_features(audio: np.ndarray, sample_rate: int, model: SpeakerModel) -> SpeechFeatures:
    """`diarize`'s speech probabilities and mel frames of `audio`, for its `features`: worked out
    earlier, where a core is idle (the nightly run does it while the previous file's flagging
    runs), the same values as inside `diarize` (both deterministic, single-threaded)."""
    from pipeline.voice_encoder import mel_frames

    wav = _prepare(audio, sample_rate)
    return SpeechFeatures(speech_probabilities(wav, model), mel_frames(wav))


def speech_probabilities(wav: np.ndarray, model: SpeakerModel) -> np.ndarray:
    """silero speech probability per 32 ms chunk of 16 kHz `wav`."""
    out = np.empty(int(math.ceil(len(wav) / _VAD_CHUNK)), dtype=np.float32)
    model.vad.probabilities_into(wav, out)
    return out


def speech_regions(
    wav: np.ndarray, model: SpeakerModel, options: DiarizeOptions
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech, with hysteresis, short gaps bridged, short blips dropped."""
    return regions_from_probabilities(speech_probabilities(wav, model), len(wav) / SAMPLE_RATE, options)


def regions_from_probabilities(
    probs: np.ndarray, total: float, options: DiarizeOptions, known: int | None = None
) -> list[tuple[float, float]]:
    """`speech_regions` from silero's probabilities per chunk, `total` seconds of audio.

    Speech starts at a chunk >= vad_threshold and lasts while chunks stay >= vad_threshold - 0.15;
    regions closer than `min_silence` merge; regions shorter than `min_speech` are dropped. With
    `known`, only `probs[:known]` exist yet (silero is still running): the regions returned are
    those no later chunk can change, the same as the first regions of the finished file."""
    known = len(probs) if known is None else known
    p = probs[:known]
    step = _VAD_CHUNK / SAMPLE_RATE
    on = options.vad_threshold
    off = min(max(on - 0.15, 0.01), on)
    # Each run of chunks >= off holding a chunk >= on is speech, from that chunk to the run's end.
    above = np.concatenate([[False], p >= off, [False]])
    edges = np.flatnonzero(above[1:] != above[:-1])
    run_starts, run_ends = edges[0::2], edges[1::2]  # [start, end) chunk indices
    loud = np.append(np.flatnonzero(p >= on), known)  # `known`: a sentinel past every run
    first = loud[np.searchsorted(loud, run_starts)]
    speech = first < run_ends
    merged: list[list[float]] = []
    for i, j in zip(first[speech].tolist(), run_ends[speech].tolist(), strict=True):
        a, b = i * step, j * step
        if merged and a - merged[-1][1] < options.min_silence:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    if known < len(probs) and merged:
        # The last region may still grow, or take in speech that starts within min_silence.
        speaking = bool(speech.any()) and int(run_ends[speech][-1]) == known
        if speaking or known * step - merged[-1][1] < options.min_silence:
            merged.pop()
    return [(round(a, 3), round(min(b, total), 3)) for a, b in merged if b - a >= options.min_speech]


def _windows(regions: Sequence[tuple[float, float]], o: DiarizeOptions) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in regions:
        if b - a < o.min_window:
            continue
        if b - a <= o.window:
            out.append((a, b))
            continue
        n = int(math.ceil((b - a - o.window) / o.step)) + 1
        # Spread the windows evenly so the last one ends at the region's end.
        stride = (b - a - o.window) / (n - 1) if n > 1 else 0.0
        out.extend((a + k * stride, a + k * stride + o.window) for k in range(n))
    return out


def _embed(mel: np.ndarray, windows: Sequence[tuple[float, float]], model: SpeakerModel) -> np.ndarray:
    """One unit-length resemblyzer embedding per window, sliced from the file's mel frames."""
    embedder = _Embedder(mel, model)
    embedder.add(windows)
    return embedder.finish()


class _Embedder:
    """Embeddings of windows handed over in time order, `_BATCH` windows of one length per encoder
    run: batch k of a length is always its windows k*_BATCH.., so a window's embedding is the same
    bits whether its batch ran early (`add(run_now=True)`, while silero still runs), at the end,
    or on whichever of `model.threads` threads (each run is single-threaded; onnxruntime releases
    the GIL)."""

    def __init__(self, mel: np.ndarray, model: SpeakerModel) -> None:
        self.mel, self.model = mel, model
        self.cache = _CACHE.get()  # the caller's, read here: the pool's threads do not inherit it
        self.stop = _STOP.get()
        self.slices: list[tuple[int, int]] = []
        self.by_len: dict[int, list[int]] = {}
        self.pending: list[list[int]] = []
        self.out = np.zeros((0, 256), dtype=np.float32)

    def add(self, windows: Sequence[tuple[float, float]], run_now: bool = False) -> None:
        """Take `windows` (after every window added before); run each batch they fill now, on this
        thread, or leave it to `finish`."""
        full: list[list[int]] = []
        for a, b in windows:
            f0 = int(round(a / _HOP))
            f1 = max(f0 + 1, min(len(self.mel), int(round(b / _HOP))))
            same = self.by_len.setdefault(f1 - f0, [])
            same.append(len(self.slices))
            self.slices.append((f0, f1))
            if len(same) % _BATCH == 0:
                full.append(same[-_BATCH:])
        if len(self.out) < len(self.slices):
            grown = np.zeros((len(self.slices), 256), dtype=np.float32)
            grown[:len(self.out)] = self.out
            self.out = grown
        for batch in full:
            (self._run if run_now else self.pending.append)(batch)

    def finish(self) -> np.ndarray:
        """Every window's embedding, in the order added: the batches left run now."""
        batches = self.pending + [idx[len(idx) - len(idx) % _BATCH:] for idx in self.by_len.values()
                                  if len(idx) % _BATCH]
        self.pending = []
        if self.model.threads > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            workers = min(self.model.threads, len(batches))
            with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
                list(pool.map(self._run, batches))
        else:
            for batch in batches:
                self._run(batch)
        return self.out

    def _run(self, idx: list[int]) -> None:
        f0, f1 = self.slices[idx[0]]
        cache = self.cache
        key = tuple(self.slices[i][0] for i in idx) + (f1 - f0,)
        if cache is not None:
            found = cache.get(key)
            if found is not None:
                self.out[idx] = found
                return
        if self.stop is not None and self.stop.is_set():
            raise DiarizationStopped
        mels = np.stack([self.mel[self.slices[i][0]:self.slices[i][0] + f1 - f0] for i in idx])
        self.out[idx] = self.model.encoder.run(None, {"mels": mels})[0]
        if cache is not None:
            cache.put(key, self.out[idx])


def _first_pass(
    wav: np.ndarray, model: SpeakerModel, options: DiarizeOptions, windowing: DiarizeOptions,
    known: SpeechFeatures | None = None,
) -> tuple[list[tuple[float, float]], np.ndarray, list[tuple[float, float]], np.ndarray]:
    """Speech regions, the file's mel frames, and the first pass of windows (`windowing`'s window
    and step over every region) with their embeddings.

    silero runs in time order, a block of chunks after another (`pipeline.speech_vad`), on one
    core. With `model.threads` > 1 it runs on a thread of its own while this thread works out the
    mel frames and embeds the windows of every region that no later chunk can change
    (`regions_from_probabilities(known=...)`), so the second core is busy while silero runs. The
    regions, windows and batches are those of the finished file, so the result is the same either
    way."""
    from pipeline.speech_vad import BLOCK
    from pipeline.voice_encoder import HOP as MEL_HOP
    from pipeline.voice_encoder import mel_frames

    total = len(wav) / SAMPLE_RATE
    probs = np.empty(int(math.ceil(len(wav) / _VAD_CHUNK)), dtype=np.float32)
    if known is not None:
        if known.probabilities.shape != probs.shape or len(known.mel) != 1 + len(wav) // MEL_HOP:
            raise DiarizationError("speech features of other audio")
        regions = regions_from_probabilities(known.probabilities, total, options)
        windows = _windows(regions, windowing)
        return regions, known.mel, windows, _embed(known.mel, windows, model)
    if model.threads < 2 or len(probs) <= BLOCK:
        model.vad.probabilities_into(wav, probs)
        regions = regions_from_probabilities(probs, total, options)
        mel = mel_frames(wav) if regions else np.zeros((0, 40), dtype=np.float32)
        windows = _windows(regions, windowing)
        return regions, mel, windows, _embed(mel, windows, model)
    import queue

    progress: queue.SimpleQueue[int | BaseException] = queue.SimpleQueue()

    def vad() -> None:
        try:
            model.vad.probabilities_into(wav, probs, progress.put)
        except BaseException as exc:  # noqa: BLE001 - raised again on the waiting thread
            progress.put(exc)

    thread = threading.Thread(target=vad, name="diarize-vad", daemon=True)
    thread.start()
    try:
        mel = mel_frames(wav)
        embedder = _Embedder(mel, model)
        regions: list[tuple[float, float]] = []
        windows: list[tuple[float, float]] = []
        done = 0
        while done < len(probs):
            news = [progress.get()]
            while not progress.empty():  # only the latest report matters
                news.append(progress.get())
            for item in news:
                if isinstance(item, BaseException):
                    raise item
            done = max(n for n in news if isinstance(n, int))
            settled = regions_from_probabilities(probs, total, options, done)
            fresh = _windows(settled[len(regions):], windowing)
            regions = settled
            windows += fresh
            embedder.add(fresh, run_now=done < len(probs))
    finally:
        thread.join()
    return regions, mel, windows, embedder.finish()


def _coarse_then_fine(
    mel: np.ndarray, regions: Sequence[tuple[float, float]], coarse: list[tuple[float, float]],
    emb: np.ndarray, o: DiarizeOptions, model: SpeakerModel,
) -> tuple[list[tuple[float, float]], np.ndarray, np.ndarray | None]:
    """Embed each speech region once per `window` (no overlap), cluster those, and re-embed at
    the fine `step` only the regions whose coarse windows disagree or sit near the boundary
    between speakers: most speech is one voice for seconds on end, and the fine windows (six
    times as many) are needed only where the voice changes. `coarse`, `emb`: the regions' windows
    at a step of one window, and their embeddings (`_first_pass`)."""
    coarse_o = replace(o, step=o.window)
    if len(coarse) < 2:
        return coarse, emb, None
    labels = _cluster(emb, coarse_o)
    k = int(labels.max()) + 1
    centroids = np.stack([_unit(emb[labels == c].mean(axis=0)) for c in range(k)])
    if k < 2:
        return coarse, emb, centroids
    sims = np.sort(emb @ centroids.T, axis=1)
    unsure = (sims[:, -1] - sims[:, -2]) < o.refine_margin
    windows: list[tuple[float, float]] = []
    parts: list[np.ndarray] = []
    fine: list[bool] = []  # per final window: to embed at the fine step
    for a, b in regions:
        inside = [i for i, (x, y) in enumerate(coarse) if x >= a - 1e-6 and y <= b + 1e-6]
        mixed = len({int(labels[i]) for i in inside}) > 1 or any(unsure[i] for i in inside)
        if not inside or (mixed and b - a > o.window):
            refined = _windows([(a, b)], o)
            windows.extend(refined)
            fine.extend([True] * len(refined))
            parts.append(np.zeros((len(refined), 256), np.float32))
        else:
            windows.extend(coarse[i] for i in inside)
            fine.extend([False] * len(inside))
            parts.append(emb[inside])
    final = np.concatenate(parts) if parts else np.zeros((0, 256), np.float32)
    if any(fine):
        # Every region's fine windows in one encoder call (full batches, both threads busy).
        mask = np.array(fine)
        final[mask] = _embed(mel, [w for w, f in zip(windows, fine, strict=True) if f], model)
    if len(final) < 2:
        return windows, final, centroids
    # Settle the speakers' centroids on the final windows (a few k-means steps from the coarse
    # ones): the coarse windows alone give blurrier centroids.
    labels = _refine(final, np.argmax(final @ centroids.T, axis=1))
    centroids = np.stack([_unit(final[labels == c].mean(axis=0)) for c in range(int(labels.max()) + 1)])
    return windows, final, centroids


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _cluster(emb: np.ndarray, o: DiarizeOptions) -> np.ndarray:
    """Cluster ids 0..k-1 per embedding; k forced, or chosen by cosine silhouette in the range.

    Average-linkage agglomerative clustering on cosine distance, cut until it has k clusters
    holding at least `min_speaker_time` of speech each; smaller clusters (a laugh, a cough, line
    noise) are outliers, not voices, and join their nearest speaker. A few k-means steps then
    settle the boundaries. Counting only substantial clusters keeps a short-spoken interviewer
    (a few questions in a long answer) while not mistaking noise for a speaker.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(emb)
    if n < 2 or o.num_speakers == 1:
        return np.zeros(n, dtype=int)
    tree = linkage(emb, method="average", metric="cosine")
    distances = _cosine_distances(emb)
    min_windows = max(2, int(round(o.min_speaker_time / o.step)))
    ks = [o.num_speakers] if o.num_speakers is not None else range(o.min_speakers, o.max_speakers + 1)
    best, best_score = np.zeros(n, dtype=int), -math.inf
    for k in ks:
        if k > n:
            break
        big: np.ndarray | None = None
        for cut in range(k, n + 1):
            raw = fcluster(tree, cut, criterion="maxclust") - 1
            counts = np.bincount(raw)
            found = np.flatnonzero(counts >= min_windows)
            if len(found) >= k:
                big = found[np.argsort(-counts[found], kind="stable")][:k]
                break
        if big is None:
            if o.num_speakers is None:
                break  # not enough speech for k substantial speakers, nor for more
            # Forced: the plain cut, outliers and all.
            raw = fcluster(tree, k, criterion="maxclust") - 1
            big = np.unique(raw)
        centroids = np.stack([_unit(emb[raw == c].mean(axis=0)) for c in big])
        labels = _refine(emb, np.argmax(emb @ centroids.T, axis=1))
        if int(labels.max()) < 1:
            continue
        score = _silhouette(distances, labels)
        if o.num_speakers is not None or score > best_score:
            best, best_score = labels, score
    return best


def _cosine_distances(emb: np.ndarray) -> np.ndarray:
    """Pairwise cosine distances in [0, 2], zero on the diagonal (as scikit-learn computes them)."""
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    d = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    np.fill_diagonal(d, 0.0)
    return d


def _silhouette(d: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of `labels` over the distance matrix `d` (scikit-learn's
    `silhouette_score(metric="precomputed")`: 0 for a point alone in its cluster), vectorised
    instead of importing scikit-learn for it."""
    k = int(labels.max()) + 1
    onehot = np.zeros((len(labels), k), dtype=d.dtype)
    onehot[np.arange(len(labels)), labels] = 1.0
    sizes = onehot.sum(axis=0)
    sums = d @ onehot  # each point's summed distance to every cluster
    own = sizes[labels]
    a = sums[np.arange(len(labels)), labels] / np.maximum(own - 1, 1)
    others = np.where(onehot > 0, np.inf, sums / np.maximum(sizes, 1))
    b = others.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(np.nan_to_num(s).mean())


def _refine(emb: np.ndarray, labels: np.ndarray, rounds: int = 5) -> np.ndarray:
    """A few k-means steps on the unit sphere from the agglomerative start (average linkage
    leaves outliers as tiny clusters; nearest-centroid reassignment folds them in)."""
    k = int(labels.max()) + 1
    for _ in range(rounds):
        cents = np.stack([_unit(emb[labels == c].mean(axis=0)) if np.any(labels == c)
                          else np.zeros(emb.shape[1]) for c in range(k)])
        new = np.argmax(emb @ cents.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    _, dense = np.unique(labels, return_inverse=True)
    return dense


def _frame_turns(
    regions: Sequence[tuple[float, float]], windows: Sequence[tuple[float, float]], sims: np.ndarray
) -> list[SpeakerTurn]:
    """Each 10 ms speech frame takes the speaker its covering windows are most similar to; frames
    no window covers (short regions) take the nearest window's."""
    centres = np.array([(a + b) / 2 for a, b in windows])
    starts = np.array([a for a, _ in windows])
    ends = np.array([b for _, b in windows])
    turns: list[SpeakerTurn] = []
    for a, b in regions:
        times = np.arange(a, b, _HOP) + _HOP / 2
        if len(times) == 0:
            continue
        covered = (starts[None, :] <= times[:, None]) & (ends[None, :] > times[:, None])
        scores = covered.astype(np.float32) @ sims
        empty = ~covered.any(axis=1)
        if np.any(empty):
            nearest = np.argmin(np.abs(centres[None, :] - times[empty][:, None]), axis=1)
            scores[empty] = sims[nearest]
        who = np.argmax(scores, axis=1)
        change = np.flatnonzero(np.diff(who)) + 1
        bounds = [0, *change.tolist(), len(who)]
        for i, j in zip(bounds, bounds[1:], strict=False):
            start = a if i == 0 else a + i * _HOP
            end = b if j == len(who) else a + j * _HOP
            turns.append(SpeakerTurn(round(start, 3), round(end, 3), str(int(who[i]))))
    return turns


def _fold_short(turns: list[SpeakerTurn], min_turn: float) -> list[SpeakerTurn]:
    """A short turn between two turns of one other speaker becomes theirs; neighbours of one
    speaker with no gap between them merge."""
    out = list(turns)
    for i in range(1, len(out) - 1):
        t = out[i]
        if t.duration < min_turn and out[i - 1].speaker == out[i + 1].speaker != t.speaker:
            out[i] = replace(t, speaker=out[i - 1].speaker)
    merged: list[SpeakerTurn] = []
    for t in out:
        if merged and merged[-1].speaker == t.speaker and t.start - merged[-1].end < 1e-6:
            merged[-1] = replace(merged[-1], end=t.end)
        else:
            merged.append(t)
    return merged


def _label(turns: Iterable[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    """Rename raw cluster ids to S1, S2... in order of first appearance."""
    names: dict[str, str] = {}
    out = []
    for t in sorted(turns, key=lambda t: (t.start, t.end)):
        name = names.setdefault(t.speaker, f"S{len(names) + 1}")
        out.append(replace(t, speaker=name))
    return tuple(out)


# ------------------------------------------------------------------------- using the turns


def speaker_times(turns: Iterable[SpeakerTurn]) -> dict[str, float]:
    """Seconds of speech per speaker."""
    out: dict[str, float] = {}
    for t in turns:
        out[t.speaker] = out.get(t.speaker, 0.0) + max(t.duration, 0.0)
    return out


def choose_interviewee(turns: Sequence[SpeakerTurn], interviewer_first: bool = False) -> str | None:
    """The interviewee's speaker id: the speaker with the most speech; with `interviewer_first`,
    the one with the most speech among those other than the first speaker (who then is the
    interviewer). None when there are no turns."""
    times = speaker_times(turns)
    if not times:
        return None
    if interviewer_first:
        first = min(turns, key=lambda t: (t.start, t.end)).speaker
        others = {s: v for s, v in times.items() if s != first}
        times = others or times
    return max(sorted(times), key=lambda s: times[s])


def assign_speakers(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> tuple[Word, ...]:
    """Each word with the speaker whose turns overlap it most; a word in no turn (VAD missed it)
    takes the nearest turn's speaker. Without turns, words are returned unchanged."""
    if not turns:
        return tuple(words)
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    starts = [t.start for t in ordered]
    out = []
    for w in words:
        lo, hi = min(w.start, w.end), max(w.start, w.end)
        i = bisect_right(starts, hi)
        overlap: dict[str, float] = {}
        k = i - 1
        # Turns are non-overlapping per speaker but may touch; walk back over candidates.
        while k >= 0 and k >= i - 8:
            t = ordered[k]
            ov = min(hi, t.end) - max(lo, t.start)
            if ov > 0 or (ov == 0 and lo == hi and t.start <= lo <= t.end):
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + max(ov, 1e-9)
            k -= 1
        if overlap:
            speaker = max(sorted(overlap), key=lambda s: overlap[s])
        else:
            mid = (lo + hi) / 2
            near = [ordered[j] for j in (i - 1, i) if 0 <= j < len(ordered)]
            speaker = min(near, key=lambda t: max(t.start - mid, mid - t.end, 0.0)).speaker
        out.append(replace(w, speaker=speaker))
    return tuple(out)


def _segment_speaker(words: Sequence[Word]) -> str | None:
    spoken: dict[str, float] = {}
    for w in words:
        if w.speaker is not None:
            spoken[w.speaker] = spoken.get(w.speaker, 0.0) + max(w.end - w.start, 0.01)
    return max(sorted(spoken), key=lambda s: spoken[s]) if spoken else None


def split_segments(segments: Sequence[Segment], language: str = "") -> tuple[Segment, ...]:
    """Segments cut where the speaker of their words changes, each carrying its speaker."""
    from pipeline.sentences import join_words

    out: list[Segment] = []
    for seg in segments:
        runs: list[list[Word]] = []
        for w in seg.words:
            if runs and runs[-1][-1].speaker == w.speaker:
                runs[-1].append(w)
            else:
                runs.append([w])
        if len(runs) <= 1:
            out.append(replace(seg, speaker=_segment_speaker(seg.words)))
            continue
        for run in runs:
            text = join_words([w.text.strip() for w in run if w.text.strip()], language)
            out.append(Segment(run[0].start, max(w.end for w in run), text, tuple(run), run[0].speaker))
    return tuple(out)


def _timed_speaker(start: float, end: float, turns: Sequence[SpeakerTurn]) -> str | None:
    spoken: dict[str, float] = {}
    for t in turns:
        ov = min(end, t.end) - max(start, t.start)
        if ov > 0:
            spoken[t.speaker] = spoken.get(t.speaker, 0.0) + ov
    return max(sorted(spoken), key=lambda s: spoken[s]) if spoken else None


def apply_turns(transcript: Transcript, turns: Sequence[SpeakerTurn]) -> Transcript:
    """`transcript` with a speaker on every word and segment (segments split at speaker
    changes) and on each translation segment (by time overlap). Pure."""
    words = iter(assign_speakers(transcript.words, turns))
    segments = tuple(replace(s, words=tuple(next(words) for _ in s.words)) for s in transcript.segments)
    segments = split_segments(segments, transcript.language)
    if turns:
        # A segment without words (some backends) takes its speaker from the turns it overlaps.
        segments = tuple(
            s if s.speaker is not None else replace(s, speaker=_timed_speaker(s.start, s.end, turns))
            for s in segments)
    translation = transcript.translation
    if translation is not None and turns:
        translation = replace(translation, segments=tuple(
            replace(s, speaker=_timed_speaker(s.start, s.end, turns)) for s in translation.segments))
    return replace(transcript, segments=segments, translation=translation)


def label_speakers(
    transcript: Transcript,
    audio: np.ndarray,
    sample_rate: int,
    model: SpeakerModel | None = None,
    options: DiarizeOptions = DiarizeOptions(),
) -> Transcript:
    """The ingest step: diarize `audio` (the transcript's media, mono) and label the transcript.
    Pure apart from running the models; the caller stores the result as a new version."""
    return apply_turns(transcript, diarize(audio, sample_rate, options, model))


def transcript_interviewee(transcript: Transcript, interviewer_first: bool = False) -> str | None:
    """`choose_interviewee` from a labelled transcript's words (no audio needed again)."""
    turns = [SpeakerTurn(w.start, w.end, w.speaker) for w in transcript.words if w.speaker is not None]
    return choose_interviewee(turns, interviewer_first)


def interviewee_flags(
    sentences: Sequence[Sentence], flags: Sequence[SentenceFlags], interviewee: str | None
) -> list[SentenceFlags]:
    """`flags` with every other speaker's sentence emptied (no themes, no risks), so themes, risk
    summaries and credibility warnings count only the interviewee. Unlabelled sentences keep
    theirs. Call between `flag_sentences` and `credibility_warnings`."""
    if len(sentences) != len(flags):
        raise ValueError(f"{len(sentences)} sentences but {len(flags)} flags")
    if interviewee is None:
        return list(flags)
    return [f if s.speaker in (None, interviewee)
            else SentenceFlags(text=f.text, labels=(), model_version=f.model_version)
            for s, f in zip(sentences, flags, strict=True)]
