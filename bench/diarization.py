"""Diarization benchmark (issue 16): speaker-time error and speed, one run; writes bench/RESULTS.md.

    .venv/bin/python bench/diarization.py [--media ../shared/media] [--no-write] [--no-asr]

Speaker-time error is DER without a collar, overlap scored: per 10 ms frame, miss + false alarm
+ confusion over reference speech time (a frame with two reference speakers counts twice), under
the speaker mapping that maximises matched time (Hungarian). Files: the real phone call and AMI
meeting in ../shared/media with their RTTM references, and a synthetic espeak-ng two-voice
interview generated here (tests/pipeline/speakers_support.py). Speed: CPU seconds per audio
second after the one-off model load, and the share diarization adds to ingest wall time against
the ingest transcription (pipeline.transcribe defaults: faster-whisper, packaged `base`, int8,
batched, beam 5, word timestamps) of the same decoded audio: run after it, and run beside it on
a second thread as ingest does (`pipeline.speakers.diarize_in_background`), in A-B-A-B order.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "RESULTS.md"
HEADING = "## Diarization (issue 16, `bench/diarization.py`)"
FRAME = 0.01
REAL = ("en_2spk_phonecall_pyannote", "en_4spk_ami_meeting_tst00")
HELD_OUT_VOICES = ("en-us+f2", "en-gb-scotland+m3")

Turn = tuple[float, float, str]


def read_rttm(path: Path) -> list[Turn]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            out.append((start, start + dur, f[7]))
    return out


def _matrix(turns: list[Turn], n: int) -> tuple[np.ndarray, list[str]]:
    names = sorted({t[2] for t in turns})
    m = np.zeros((len(names), n), dtype=bool)
    for a, b, s in turns:
        m[names.index(s), int(round(a / FRAME)):int(round(b / FRAME))] = True
    return m, names


def speaker_time_error(reference: list[Turn], hypothesis: list[Turn],
                       collar: float = 0.0, skip_overlap: bool = False) -> dict[str, float]:
    """DER-like error with optimal mapping; components as shares of reference speech time.
    `collar`: seconds either side of each reference boundary left unscored (NIST md-eval's
    convention is 0.25). `skip_overlap`: frames where two or more reference speakers talk are
    left unscored (pyannote.metrics' `skip_overlap`); a system that gives each frame one speaker
    cannot score below the overlapped share otherwise."""
    from scipy.optimize import linear_sum_assignment

    end = max([b for _, b, _ in reference] + [b for _, b, _ in hypothesis] + [0.0])
    n = int(round(end / FRAME)) + 1
    ref, _ = _matrix(reference, n)
    hyp, _ = _matrix(hypothesis, n)
    if len(hyp) == 0:
        hyp = np.zeros((1, n), dtype=bool)
    if collar > 0:
        keep = np.ones(n, dtype=bool)
        for t in {x for a, b, _ in reference for x in (a, b)}:
            keep[max(0, int(round((t - collar) / FRAME))):int(round((t + collar) / FRAME))] = False
        ref, hyp = ref[:, keep], hyp[:, keep]
    if skip_overlap:
        single = ref.sum(axis=0) <= 1
        ref, hyp = ref[:, single], hyp[:, single]
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)
    rows, cols = linear_sum_assignment(-overlap)
    correct = overlap[rows, cols].sum()
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = n_ref.sum()
    miss = np.maximum(n_ref - n_hyp, 0).sum()
    fa = np.maximum(n_hyp - n_ref, 0).sum()
    confusion = np.minimum(n_ref, n_hyp).sum() - correct
    return {"error": (miss + fa + confusion) / total, "miss": miss / total, "false_alarm": fa / total,
            "confusion": confusion / total, "ref_speakers": len(ref), "hyp_speakers": len(hyp)}


def load_wav(path: Path) -> np.ndarray:
    """16 kHz mono float32, decoded as ingest decodes it."""
    from pipeline.media import decode_audio

    return decode_audio(path, 16000)


def asr_wall(audio: np.ndarray, backend: object) -> float:
    """Wall seconds of the ingest transcription (faster-whisper, packaged base, defaults)."""
    from pipeline.transcribe import TranscribeOptions, transcribe_audio

    t = time.perf_counter()
    transcribe_audio(audio, TranscribeOptions(), backend)  # type: ignore[arg-type]
    return time.perf_counter() - t


def asr_beside_wall(audio: np.ndarray, backend: object, model: object) -> float:
    """Wall seconds of the same transcription with diarization beside it, as ingest runs them."""
    from pipeline.speakers import DiarizeOptions, diarize_in_background
    from pipeline.transcribe import TranscribeOptions, transcribe_audio

    t = time.perf_counter()
    found = diarize_in_background(audio, 16000, DiarizeOptions(), lambda: model)  # type: ignore[arg-type,return-value]
    transcribe_audio(audio, TranscribeOptions(), backend)  # type: ignore[arg-type]
    found.result()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    # ../shared beside the checkout (the repository), or two levels up (a worktree under wt/).
    media = next((p for p in (REPO.parent / "shared" / "media", REPO.parent.parent / "shared" / "media")
                  if p.is_dir()), REPO.parent / "shared" / "media")
    ap.add_argument("--media", default=str(media))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--heading", default=HEADING, help="the RESULTS.md section to (re)write")
    ap.add_argument("--no-asr", action="store_true", help="skip the faster-whisper comparison")
    args = ap.parse_args()
    media = Path(args.media)

    from pipeline.speakers import DiarizeOptions, diarize, load_speaker_model
    from tests.pipeline.speakers_support import espeak_available, make_interview

    t0 = time.process_time()
    model = load_speaker_model()
    # One short warm-up call (library imports, first-call allocations) counts as loading.
    diarize(np.random.default_rng(0).normal(0, 0.1, 32000).astype(np.float32), 16000, DiarizeOptions(), model)
    load_cpu = time.process_time() - t0

    items: list[tuple[str, np.ndarray, list[Turn]]] = []
    for name in REAL:
        wav, rttm = media / f"{name}.wav", media / f"{name}.rttm"
        if wav.is_file() and rttm.is_file():
            items.append((name, load_wav(wav), read_rttm(rttm)))
    if espeak_available():
        iv = make_interview(repeat=2)
        items.append(("synthetic espeak-ng interview", iv.audio, list(iv.turns)))
        # Held out: other voices, never used while choosing the clustering (run once).
        held = make_interview(repeat=2, voices=HELD_OUT_VOICES)
        items.append(("synthetic, held-out voices", held.audio, list(held.turns)))

    backend = None
    if not args.no_asr:
        from pipeline.transcribe import TranscribeOptions, load_backend

        backend = load_backend(TranscribeOptions())
    rows = []
    runs = [(name, audio, ref, DiarizeOptions()) for name, audio, ref in items]
    # Phase 1's embedding for comparison: every window at the fine step.
    runs += [(f"{name} (fine step everywhere)", audio, ref, DiarizeOptions(coarse_first=False))
             for name, audio, ref in items if not name.startswith("synthetic, held-out")]
    for name, audio, ref, options in runs:
        t0 = time.process_time()
        w0 = time.perf_counter()
        turns = diarize(audio, 16000, options, model)
        cpu, wall = time.process_time() - t0, time.perf_counter() - w0
        score = speaker_time_error(ref, [(t.start, t.end, t.speaker) for t in turns])
        collared = speaker_time_error(ref, [(t.start, t.end, t.speaker) for t in turns], collar=0.25)
        single = speaker_time_error(ref, [(t.start, t.end, t.speaker) for t in turns], skip_overlap=True)
        asr = beside = None
        if backend is not None and "(" not in name:
            alone, both = [], []
            for _ in range(2):  # A-B-A-B, best of two each: the machine is shared
                alone.append(asr_wall(audio, backend))
                both.append(asr_beside_wall(audio, backend, model))
            asr, beside = min(alone), min(both)
        asr = asr or next((r[5] for r in rows if name.startswith(r[0])), None)
        rows.append((name, len(audio) / 16000, score, cpu, wall, asr, collared["error"], beside,
                     single["error"]))
        print(name, {k: round(v, 4) for k, v in score.items()}, f"cpu {cpu:.2f}s wall {wall:.2f}s")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=REPO).stdout.strip()
    load = os.getloadavg()
    heading = args.heading
    lines = [heading, "",
             f"Commit {commit}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
             f"{os.cpu_count()} cores; model load {load_cpu:.2f} CPU-s (once per process). "
             "Optimal mapping; error without a collar, overlap scored; with NIST's 0.25 s collar; and "
             "without a collar with overlapped reference speech unscored (pyannote's skip_overlap).",
             "",
             "| file | audio s | speakers ref/found | error | miss | false alarm | confusion "
             "| error, 0.25 s collar | error, overlap unscored | CPU-s per audio s "
             "| added to ingest wall, after whisper "
             "| added to ingest wall, beside whisper |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, dur, s, cpu, wall, asr, col, beside, single_error in rows:
        added = f"{wall / asr:.1%} (whisper {asr:.1f} s)" if asr else "n/a"
        added += f" | {beside / asr - 1:+.1%} ({beside:.1f} s)" if asr and beside else " | n/a"
        lines.append(f"| {name} | {dur:.1f} | {s['ref_speakers']}/{s['hyp_speakers']} | {s['error']:.1%} "
                     f"| {s['miss']:.1%} | {s['false_alarm']:.1%} | {s['confusion']:.1%} | {col:.1%} "
                     f"| {single_error:.1%} "
                     f"| {cpu / dur:.4f} "
                     f"| {added} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        old = RESULTS.read_text() if RESULTS.exists() else ""
        if heading in old:
            head, _, rest = old.partition(heading)
            tail = rest.split("\n## ", 1)
            old = head + (("## " + tail[1]) if len(tail) > 1 else "")
        RESULTS.write_text(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
