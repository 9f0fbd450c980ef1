"""Diarization speed on the nightly English files (issue 16: "diarization adds <= 5 % to ingest").

    nice -n 10 .venv/bin/python bench/diarization_speed.py [--tree DIR] [--threads 1 2]
    nice -n 10 .venv/bin/python bench/diarization_speed.py --pieces [--rounds 3]

Prints, for the tree's `pipeline.speakers` (this checkout, or `--tree`, e.g. an older commit
unpacked with `git archive`): the cold model load in a fresh process (imports included, after
faster-whisper is imported, as in a nightly worker), then process CPU seconds and wall seconds per
audio second for each thread count over the same files (bench/nightly.py's English set: the
shared recordings, the demo interview and the four synthetic videos), decoded once as ingest
decodes them, with the load average before and after. Turns must be identical at every thread
count. Wall figures mean something only on a quiet machine; CPU figures hold under load.
The share of a nightly run is measured by `bench/nightly.py --skip-translated --no-write`.

`--pieces` (this checkout only): CPU seconds of each piece on one thread, the float encoder and
the int8 one (`load_speaker_model(int8=)`) interleaved round by round, so both arms see the same
load: silero's speech probabilities, the mel frames, the encoder runs (windows embedded), and the
rest of `diarize` (regions, windows, clustering, turns); then the whole of `diarize` from the
samples, and whether the turns equal the float encoder's, file by file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_COLD = """
import sys, time, os
sys.path.insert(0, {tree!r})
import faster_whisper  # a nightly worker has it loaded already
c, w = time.process_time(), time.perf_counter()
from pipeline.speakers import load_speaker_model
load_speaker_model(**{kwargs!r})
print(time.process_time() - c, time.perf_counter() - w)
"""


def cold_load(tree: Path, threads: int | None) -> tuple[float, float]:
    """CPU and wall seconds of importing pipeline.speakers and loading the model, fresh process."""
    kwargs = {} if threads is None else {"threads": threads}
    out = subprocess.run([sys.executable, "-c", _COLD.format(tree=str(tree), kwargs=kwargs)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[-2]), float(out[-1])


class _TimedEncoder:
    """The encoder session, adding up this thread's CPU seconds in it and the windows it embeds."""

    def __init__(self, session: object) -> None:
        self.session, self.cpu, self.windows = session, 0.0, 0

    def run(self, names: object, feeds: dict) -> object:
        c = time.thread_time()
        out = self.session.run(names, feeds)  # type: ignore[attr-defined]
        self.cpu += time.thread_time() - c
        self.windows += len(feeds["mels"])
        return out


def pieces(audio: list, seconds: float, rounds: int) -> None:
    """Per-piece CPU seconds of diarization, float vs int8 encoder, interleaved (one thread)."""
    from dataclasses import replace

    from pipeline.speakers import (
        DiarizeOptions,
        SpeechFeatures,
        diarize,
        load_speaker_model,
        speech_probabilities,
    )
    from pipeline.voice_encoder import mel_frames

    models = {"float": load_speaker_model(threads=1, int8=False), "int8": load_speaker_model(threads=1)}
    print("| round | encoder | silero | mel | encoder (windows) | rest | diarize, whole | per audio s "
          "| load before → after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in range(rounds):
        turns: dict[str, list[object]] = {}
        for name, model in models.items() if k % 2 == 0 else reversed(models.items()):
            before = os.getloadavg()
            timed = _TimedEncoder(model.encoder)
            probe = replace(model, encoder=timed)
            vad = mel = 0.0
            features = []
            for _, a in audio:
                c = time.thread_time()
                p = speech_probabilities(a, model)
                vad += time.thread_time() - c
                c = time.thread_time()
                m = mel_frames(a)
                mel += time.thread_time() - c
                features.append(SpeechFeatures(p, m))
            c = time.thread_time()
            for (_, a), f in zip(audio, features, strict=True):
                diarize(a, 16000, DiarizeOptions(), probe, f)
            rest = time.thread_time() - c - timed.cpu
            c = time.thread_time()
            turns[name] = [diarize(a, 16000, DiarizeOptions(), model) for _, a in audio]
            whole = time.thread_time() - c
            after = os.getloadavg()
            print(f"| {k + 1} | {name} | {vad:.2f} | {mel:.2f} | {timed.cpu:.2f} ({timed.windows}) "
                  f"| {rest:.2f} | {whole:.2f} | {whole / seconds:.4f} "
                  f"| {before[0]:.1f} → {after[0]:.1f} |", flush=True)
        same = sum(x == y for x, y in zip(turns["int8"], turns["float"], strict=True))
        print(f"round {k + 1}: the int8 turns equal the float turns in {same}/{len(audio)} files")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=str(REPO), help="the checkout whose pipeline.speakers runs")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--pieces", action="store_true", help="CPU by piece, float vs int8 encoder")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of --pieces")
    args = ap.parse_args()
    tree = Path(args.tree).resolve()
    sys.path.insert(0, str(REPO))
    from bench.nightly import ENGLISH, _files, synthetic_videos
    from flows.demo import DEMO_MEDIA

    sys.path.insert(0, str(tree))
    for name in [m for m in sys.modules if m == "pipeline" or m.startswith("pipeline.")]:
        del sys.modules[name]  # the tree's own pipeline package, not this checkout's
    from pipeline.media import load_audio
    from pipeline.speakers import DiarizeOptions, diarize, load_speaker_model
    from pipeline.threads import pin_blas_threads

    pin_blas_threads()  # as in ingest, where transcription pins numpy's BLAS to one thread

    files = _files(ENGLISH, [Path(DEMO_MEDIA), *synthetic_videos()])
    audio = [(f.name, load_audio(f)) for f in files]
    seconds = sum(len(a) for _, a in audio) / 16000
    commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or tree.name
    print(f"tree {tree} ({commit}); {len(audio)} files, {seconds:.1f} s of audio; {os.cpu_count()} cores")
    if args.pieces:
        pieces(audio, seconds, args.rounds)
        return
    turns: dict[int, list[object]] = {}
    for threads in args.threads:
        load_cpu, load_wall = cold_load(tree, threads if tree == REPO.resolve() else None)
        model = load_speaker_model(threads=threads) if tree == REPO.resolve() else load_speaker_model()
        before = os.getloadavg()
        c, w = time.process_time(), time.perf_counter()
        turns[threads] = [diarize(a, 16000, DiarizeOptions(), model) for _, a in audio]
        cpu, wall = time.process_time() - c, time.perf_counter() - w
        after = os.getloadavg()
        print(f"| {commit} | {threads} | {load_cpu:.2f} / {load_wall:.2f} | {cpu:.2f} | {cpu / seconds:.4f} "
              f"| {wall:.2f} | {wall / seconds:.4f} | {before[0]:.1f} → {after[0]:.1f} |", flush=True)
    first = next(iter(turns.values()))
    print("turns identical at every thread count:", all(t == first for t in turns.values()))


if __name__ == "__main__":
    main()
