"""Two Whisper backends behind one record.

`faster-whisper` (default): CTranslate2 int8 on CPU through `BatchedInferencePipeline`
(batch 8, beam 5, voice-activity filter, word timestamps). `openai-whisper`: the reference
implementation via `whisper.load_model(name_or_path)`. Each adapter drains its backend's output
straight into `Transcript` / `Segment` / `Word` records; nothing backend-specific leaks out.

Load a backend once with `load_backend(options)` and pass it to every `transcribe` call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np

from pipeline.errors import ModelError, TranscriptionError
from pipeline.media import SAMPLE_RATE, load_audio
from pipeline.records import Segment, Transcript, Translation, Word
from pipeline.threads import TRANSCRIBE_THREADS, pin_blas_threads
from pipeline.whisper_weights import ResolvedModel, prefer_offline, resolve_model

BACKENDS = ("faster-whisper", "openai-whisper")
Progress = Callable[[float, float], None]
"""Called with (seconds of audio done, total seconds)."""


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """What to run and how.

    backend: "faster-whisper" (default; batched int8, ~0.07× real time for `base` on 2 cores)
        or "openai-whisper" (reference implementation, float32, ~8× slower).
    model: a name (`base` resolves to the packaged weights, offline), a CTranslate2 directory
        or an openai-whisper `.pt` checkpoint.
    language: ISO code, or None to detect it from the first 30 s.
    translate: also produce Whisper's English translation (skipped when the language is "en").
    beam_size: beam width for both backends (5, Whisper's own CLI default).
    batch_size: faster-whisper batched-pipeline batch (8: best speed/memory on 2 cores).
    compute_type: CTranslate2 quantisation ("int8" on CPU; ~3× faster than float32, same text).
    vad_filter: skip non-speech with Silero VAD (faster-whisper; batching relies on it).
    word_timestamps: per-word times; sentences and cues are built from them.
    cpu_threads: CTranslate2 (or torch) threads for the backend, fixed per job
        (`pipeline.threads.TRANSCRIBE_THREADS`) and recorded in the transcript; 0 means every
        core, which makes the recorded count depend on the machine.
    loop_ratio: a batched segment whose text compresses better than this (gzip ratio; 2.4 is
        Whisper's own hallucination-loop threshold) is decoded again with repeated 3-token
        runs forbidden. The batched pipeline has no temperature fallback, and loops
        ("Hello. Hello. Hello. ...") on quiet or noisy speech. None turns the repair off.
    """

    backend: str = "faster-whisper"
    model: str = "base"
    language: str | None = None
    translate: bool = False
    beam_size: int = 5
    batch_size: int = 8
    compute_type: str = "int8"
    vad_filter: bool = True
    word_timestamps: bool = True
    cpu_threads: int = TRANSCRIBE_THREADS
    loop_ratio: float | None = 2.4


class Backend(Protocol):
    name: str
    model_name: str
    threads: int  # the backend's compute threads, recorded in each transcript

    def run(self, audio: np.ndarray, language: str | None, task: str,
            progress: Progress | None) -> tuple[tuple[Segment, ...], str, float]:
        """Segments, language and its probability for 16 kHz float32 mono `audio`."""
        ...


def _clean_words(raw: Iterable[tuple[float, float, str, float]], duration: float,
                 floor: float) -> tuple[tuple[Word, ...], float]:
    """Records for one segment's words: stripped, inside [0, duration], never overlapping.

    Whisper's word times can step back by a few milliseconds at chunk joins; later stages
    assume order, so each word starts no earlier than the previous one ended (`floor`).
    """
    words: list[Word] = []
    for start, end, text, prob in raw:
        text = text.strip()
        if not text:
            continue
        start = min(max(float(start), floor, 0.0), duration)
        end = min(max(float(end), start), duration)
        words.append(Word(start=round(start, 3), end=round(end, 3), text=text,
                          probability=round(float(prob), 4)))
        floor = end
    return tuple(words), floor


def _segment(start: float, end: float, text: str, words: tuple[Word, ...], duration: float) -> Segment:
    if words:
        start, end = min(start, words[0].start), max(end, words[-1].end)
    start = min(max(float(start), 0.0), duration)
    return Segment(start=round(start, 3), end=round(min(max(float(end), start), duration), 3),
                   text=text.strip(), words=words)


class FasterWhisperBackend:
    """CTranslate2 Whisper through faster-whisper's batched pipeline."""

    name = "faster-whisper"

    def __init__(self, resolved: ResolvedModel, options: TranscribeOptions) -> None:
        prefer_offline(resolved)
        try:
            from faster_whisper import BatchedInferencePipeline, WhisperModel

            model = WhisperModel(resolved.path, device="cpu", compute_type=options.compute_type,
                                 cpu_threads=options.cpu_threads, local_files_only=resolved.kind != "name")
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError(f"cannot load faster-whisper model {resolved.name!r}: {_first_line(exc)}") \
                from None
        self.model = model
        self.pipeline = BatchedInferencePipeline(model)
        self.options = options
        self.model_name = resolved.name
        self.threads = options.cpu_threads or (os.cpu_count() or 1)

    def run(self, audio: np.ndarray, language: str | None, task: str,
            progress: Progress | None) -> tuple[tuple[Segment, ...], str, float]:
        o = self.options
        duration = audio.size / SAMPLE_RATE
        segments_iter, info = self.pipeline.transcribe(
            audio, language=language, task=task, beam_size=o.beam_size, batch_size=o.batch_size,
            vad_filter=o.vad_filter, word_timestamps=o.word_timestamps)
        batch = []
        for s in segments_iter:  # a generator: decoding happens while we drain it
            batch.append(s)
            if progress:
                progress(min(float(s.end), duration), duration)
        out: list[Segment] = []
        floor = 0.0
        for k, s in enumerate(batch):
            parts = [s]
            if o.loop_ratio is not None and s.text.strip() and _compression_ratio(s.text) > o.loop_ratio:
                # A looping segment's words stop where the loop began; the speech it swallowed
                # runs up to the next segment, so the whole gap between neighbours is decoded
                # again (starting before the onset too: VAD misses speech cut at its first word).
                since = batch[k - 1].end if k else 0.0
                until = batch[k + 1].start if k + 1 < len(batch) else duration
                parts = self._redecode(audio, since, until, info.language, task)
            for part in parts:
                raw = ((w.start, w.end, w.word, w.probability) for w in (part.words or ()))
                words, floor = _clean_words(raw, duration, floor)
                if part.text.strip():
                    out.append(_segment(part.start, part.end, part.text, words, duration))
        if progress:
            progress(duration, duration)
        return tuple(out), info.language, float(info.language_probability)


    def _redecode(self, audio: np.ndarray, start: float, end: float, language: str,
                  task: str) -> list[Any]:
        """Decode [start, end] seconds again, forbidding repeated 3-token runs.

        Whisper's remedy, the sequential decoder's temperature fallback, samples: it cost 5-10×
        the batched time on a 20 s quiet dialogue and its text varied run to run. Beam search
        with `no_repeat_ngram_size=3` broke the same loop in batched time, deterministically,
        at a word error rate close to openai-whisper's. Only looping spans get this, so normal
        speech that repeats itself is never touched. Returns segments on the original clock.
        """
        o = self.options
        a, b = max(0, int(start * SAMPLE_RATE)), min(audio.size, int(end * SAMPLE_RATE) + 1)
        segments, _ = self.pipeline.transcribe(
            audio[a:b], language=language, task=task, beam_size=o.beam_size, batch_size=o.batch_size,
            vad_filter=o.vad_filter, word_timestamps=o.word_timestamps, no_repeat_ngram_size=3)
        shift = a / SAMPLE_RATE
        return [replace(s, start=s.start + shift, end=s.end + shift,
                        words=[replace(w, start=w.start + shift, end=w.end + shift) for w in (s.words or ())])
                for s in segments]


def _compression_ratio(text: str) -> float:
    """Whisper's loop detector: how much better than 1:1 the UTF-8 text gzips."""
    import zlib

    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))


class OpenAIWhisperBackend:
    """The reference openai-whisper implementation (float32 on CPU)."""

    name = "openai-whisper"

    def __init__(self, resolved: ResolvedModel, options: TranscribeOptions) -> None:
        import torch
        import whisper

        if options.cpu_threads:
            torch.set_num_threads(options.cpu_threads)
        try:
            model = whisper.load_model(resolved.path, device="cpu")
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load openai-whisper model {resolved.name!r}: {_first_line(exc)}") \
                from None
        if resolved.kind == "pt":
            from pipeline.ct2_convert import read_alignment_heads

            dump = read_alignment_heads(resolved.path)
            if dump is not None:
                model.set_alignment_heads(dump)
        self.model = model
        self.options = options
        self.model_name = resolved.name
        self.threads = torch.get_num_threads()

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        import whisper

        segment = whisper.pad_or_trim(audio)
        mel = whisper.log_mel_spectrogram(segment, self.model.dims.n_mels).to(self.model.device)
        _, probs = self.model.detect_language(mel)
        lang = max(probs, key=probs.get)
        return lang, float(probs[lang])

    def run(self, audio: np.ndarray, language: str | None, task: str,
            progress: Progress | None) -> tuple[tuple[Segment, ...], str, float]:
        import whisper

        o = self.options
        duration = audio.size / SAMPLE_RATE
        if progress:
            progress(0.0, duration)
        probability = 1.0
        if language is None:
            language, probability = self.detect_language(audio)
        with _whisper_progress(progress, duration):
            result: dict[str, Any] = whisper.transcribe(
                self.model, audio, language=language, task=task, beam_size=o.beam_size,
                best_of=o.beam_size, word_timestamps=o.word_timestamps, fp16=False,
                verbose=None if progress is None else False)
        out: list[Segment] = []
        floor = 0.0
        for s in result["segments"]:
            raw = ((w["start"], w["end"], w["word"], w["probability"]) for w in s.get("words", ()))
            words, floor = _clean_words(raw, duration, floor)
            if s["text"].strip():
                out.append(_segment(s["start"], s["end"], s["text"], words, duration))
        if progress:
            progress(duration, duration)
        return tuple(out), language or result.get("language", ""), probability


@contextmanager
def _whisper_progress(progress: Progress | None, duration: float) -> Iterator[None]:
    """Route openai-whisper's internal tqdm bar (counted in mel frames) to `progress`.

    `whisper.transcribe` has no callback; its only progress signal is the tqdm bar it opens when
    verbose=False. The module's `tqdm` name is swapped for the length of one call.
    """
    if progress is None:
        yield
        return
    module = sys.modules["whisper.transcribe"]
    original = module.tqdm

    class _Bar:
        def __init__(self, total: int = 0, **_: object) -> None:
            self.total, self.n = max(int(total), 1), 0

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int = 1) -> None:
            self.n += n
            progress(min(duration, duration * self.n / self.total), duration)

    module.tqdm = SimpleNamespace(tqdm=_Bar)
    try:
        yield
    finally:
        module.tqdm = original


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def language_code(language: str | None) -> str | None:
    """A Whisper language code from a code or English name ("fr", "French"); None stays None."""
    if language is None or not language.strip():
        return None
    from whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

    key = language.strip().lower()
    if key in LANGUAGES:
        return key
    if key in TO_LANGUAGE_CODE:
        return TO_LANGUAGE_CODE[key]
    raise TranscriptionError(f"unknown language {language!r} (use a Whisper code such as en, fr, ar)")


def load_backend(options: TranscribeOptions = TranscribeOptions()) -> Backend:
    """Resolve `options.model` (offline first) and load it once for `options.backend`."""
    if options.backend not in BACKENDS:
        raise ModelError(f"unknown backend {options.backend!r} (choose {' or '.join(BACKENDS)})")
    resolved = resolve_model(options.model, options.backend)
    if options.backend == "faster-whisper":
        return FasterWhisperBackend(resolved, options)
    return OpenAIWhisperBackend(resolved, options)


def transcribe_audio(audio: np.ndarray, options: TranscribeOptions, backend: Backend,
                     progress: Progress | None = None) -> Transcript:
    """Transcribe decoded 16 kHz mono audio (and translate it when asked).

    BLAS is pinned first (`pipeline.threads`): the same audio gives the same transcript in any
    process, whatever thread settings it started with."""
    duration = audio.size / SAMPLE_RATE
    language = language_code(options.language)
    pin_blas_threads()
    try:
        segments, lang, prob = backend.run(audio, language, "transcribe", progress)
        translation = None
        if options.translate and lang != "en":
            tr_segments, _, _ = backend.run(audio, lang, "translate", None)
            translation = Translation(language="en", segments=tr_segments)
    except (RuntimeError, ValueError) as exc:
        raise TranscriptionError(f"{backend.name} failed: {_first_line(exc)}") from None
    return Transcript(language=lang, language_probability=round(prob, 4), duration=round(duration, 3),
                      segments=segments, backend=backend.name, model=backend.model_name,
                      translation=translation, threads=int(getattr(backend, "threads", 0)))


def transcribe(path: str | os.PathLike[str], options: TranscribeOptions = TranscribeOptions(),
               backend: Backend | None = None, progress: Progress | None = None,
               audio: np.ndarray | None = None) -> Transcript:
    """Decode `path`, check it holds sound, and transcribe it.

    Pass a `backend` from `load_backend` to reuse a loaded model across files; otherwise one is
    loaded for this call. `audio`: the file already decoded by `pipeline.media.load_audio` (the
    caller's one decode, shared with the waveform and diarization). Raises MediaError,
    ModelError or TranscriptionError.
    """
    if audio is None:
        audio = load_audio(path)
    if backend is None:
        backend = load_backend(options)
    elif backend.name != options.backend:
        raise ModelError(f"backend {backend.name!r} was loaded but options ask for {options.backend!r}")
    return transcribe_audio(audio, options, backend, progress)
