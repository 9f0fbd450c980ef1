"""Benchmark of a nightly run end to end (issues 7 and 19). Writes its section of bench/RESULTS.md.

    .venv/bin/python bench/nightly.py [--no-write] [--skip-translated]

What an operator's `counterclips run --no-exports` does, on the footage of ../shared/media:

* English: the bundled demo interview, real English recordings, and four synthetic 720p
  interview videos (espeak-ng speech over a moving 1280×720 test picture, made here once);
* translated: non-English recordings with the English translation on.

Each set goes through `run_nightly` (local task runner, counts from the cores) on a fresh
workspace, review proxies included. While it runs, a sampler reads which steps are active in
this process every 20 ms (`flows.nightly_worker.ACTIVE`) and gives each tick to one stage
(transcribe > diarize > flag > propose > probe > proxy > preview); ticks with none are the flow's own time
(Prefect task bookkeeping, scanning, the report). So the per-stage table adds up to the wall
time, and "proxy" counts only encode time that nothing heavier overlapped. Each set is a one-shot
run: it starts Prefect's temporary server itself (the "start-up" stage, while the models load on
another thread), as `counterclips run` does with no server kept for the workspace.
The same English files are then transcribed alone (decode + Whisper, model loaded once): the
limit the run is compared with. Peak RSS: this process (models, flow, threads) and, separately,
its largest child (ffmpeg) and the Prefect server.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.results import write_section  # noqa: E402

SHARED = REPO.parent / "shared" / "media"
SECTION = "## Nightly run end to end, proxies included (issue 19, `bench/nightly.py`)"
SYNTH_DIR = Path(tempfile.gettempdir()) / "cc-bench-synthetic-720p"

ENGLISH = ("vid_en_manifesto_audiobook.mp4", "en_apollo11_radio_multispk.mp3",
           "en_2spk_phonecall_pyannote.wav", "en_4spk_ami_meeting_tst00.wav", "en_dialogue_gloria.mp3",
           "en_3spk_clips_picovoice_leopard.wav", "vid_en_talkinghead_katiehill.mp4", "en_jfk_inaugural.flac")
TRANSLATED = ("fr_smartphone_discussion.mp3", "fr_bfmtv_radio.mp3", "ja_google_news_talk.mp3",
              "ca_read_gossos.mp3", "de_gaenswein_interview.mp3", "ar-eg_conversational_klaam.wav")
STAGE_ORDER = ("transcribe", "diarize", "flag", "propose", "probe", "proxy", "preview", "start-up")

# What the synthetic interviewees say: former members on recruitment, violence and leaving.
SYNTH_TEXTS = (
    "When I joined I was nineteen. They promised me a family and a purpose, and for a while it "
    "felt true. Then they asked me to hurt people who had done nothing to me. I saw a friend beaten "
    "for asking a question. That was when I knew the promises were lies, and I started planning "
    "how to leave without them finding out.",
    "The recruiter found me online. He listened to me when nobody else did. Every week the videos "
    "got more violent, and every week I believed a little more. Looking back, I was being groomed. "
    "If you are watching this and someone like him is talking to you, please talk to someone you "
    "trust before it is too late.",
    "Leaving was the hardest thing I have ever done. I lost every friend I had. They threatened my "
    "mother. A counsellor helped me find a job and a flat, and slowly I learned to live without "
    "hate. Today I work with young people so that they never make the choice I made.",
    "Inside the group nobody could disagree. The leaders lived well while we had nothing. They said "
    "violence would bring justice, but all it brought was prison and funerals. I regret the harm I "
    "caused. I cannot undo it, but I can tell the truth about what it was really like.",
)


def synthetic_videos() -> list[Path]:
    """Four 720p H.264/AAC interview videos, espeak-ng speech over a moving test picture."""
    import imageio_ffmpeg

    espeak = shutil.which("espeak-ng") or shutil.which("espeak")
    if espeak is None:
        print("note: espeak-ng not found; no synthetic videos")
        return []
    SYNTH_DIR.mkdir(exist_ok=True)
    out: list[Path] = []
    for i, text in enumerate(SYNTH_TEXTS):
        video = SYNTH_DIR / f"synthetic_interview_{i + 1}_720p.mp4"
        if not video.is_file():
            wav = SYNTH_DIR / f"speech_{i + 1}.wav"
            subprocess.run([espeak, "-v", "en-us", "-s", "140", "-w", str(wav), text], check=True)
            tmp = video.with_suffix(".part.mp4")
            subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y",
                            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-i", str(wav),
                            "-shortest", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(tmp)], check=True)
            tmp.replace(video)
        out.append(video)
    return out


def _files(names: tuple[str, ...], extra: list[Path]) -> list[Path]:
    return [SHARED / n for n in names if (SHARED / n).is_file()] + extra


def _fresh_workspace(files: list[Path]):  # noqa: ANN202 - Workspace
    from clips_metadata.workspace import Workspace

    ws = Workspace(Path(tempfile.mkdtemp(prefix="cc-bench-"))).ensure()
    for f in files:
        shutil.copyfile(f, ws.inbox / f.name)
    return ws


def _reset_worker_resources() -> None:
    from flows import nightly_worker as work

    work.RESOURCES.close()
    work.RESOURCES.__init__()  # drop loaded models so the run pays for loading, as a real one does


class Sampler:
    """Gives each 20 ms of wall time to the heaviest step active then (or to "orchestration")."""

    def __init__(self, period: float = 0.02) -> None:
        self.period = period
        self.ticks: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from flows.nightly_worker import ACTIVE

        last = time.perf_counter()
        while not self._stop.is_set():
            time.sleep(self.period)
            now = time.perf_counter()
            active = {k for k, v in ACTIVE.items() if v > 0}
            self.ticks[next((s for s in STAGE_ORDER if s in active), "orchestration")] += now - last
            last = now

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_set(files: list[Path], translate: bool, proxy_niceness: int | None = None) -> dict[str, object]:
    from flows.nightly import NightlyOptions, run_nightly
    from flows.nightly_worker import WorkOptions

    ws = _fresh_workspace(files)
    options = NightlyOptions(settle_seconds=0.0, build_proxies=True, render_exports=False,
                             work=replace(WorkOptions(), translate=translate))
    if proxy_niceness is not None:
        options = replace(options, proxy_niceness=proxy_niceness)
    _reset_worker_resources()
    _stop_prefect_server()  # a one-shot run: it starts its own
    _reset_peak_rss()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    with Sampler() as sampler:
        report = run_nightly(ws, options)
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    peak_rss = _vm_hwm_mb(os.getpid())
    failed = [(f.name, f.reason) for f in report.files if f.status not in ("processed", "resumed")]
    if failed:
        print(f"warning: not processed: {failed}")
    footage = sum(f.duration for f in report.files)
    video = {f.name for f in report.files if f.name.endswith(".mp4")}
    proxies = sorted(ws.proxies.glob("*.mp4"))
    stills = len(list(ws.proxies.glob("*.png")))
    out = {"files": len(report.files), "footage": footage, "wall": wall, "ticks": dict(sampler.ticks),
           "stage_seconds": dict(report.stage_seconds), "candidates": report.candidates_proposed,
           "proxies": len(proxies), "stills": stills, "video_files": len(video),
           "video_footage": sum(f.duration for f in report.files if f.name in video),
           "threads": options.work.cpu_threads, "workers": options.max_workers,
           "slots": options.work.heavy_slots, "cpu": cpu, "peak_rss": peak_rss,
           "proxy_niceness": options.proxy_niceness}
    _reset_worker_resources()
    shutil.rmtree(ws.root, ignore_errors=True)
    return out


def _stop_prefect_server() -> None:
    """Stop the temporary server after Prefect's event and log workers have sent it what they
    hold (stopped first, they retry a closed port for minutes)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if server.running:
        for service in (EventsWorker, APILogWorker):
            service.drain_all(timeout=60)
    server.stop()


def transcription_alone(files: list[Path]) -> float:
    """Seconds to decode and transcribe `files` one after another, the model loaded once
    before the clock starts (loading is in the run's figure, so this limit is generous)."""
    from pipeline.media import load_audio
    from pipeline.transcribe import TranscribeOptions, load_backend, transcribe_audio

    options = TranscribeOptions()
    backend = load_backend(options)
    t0 = time.perf_counter()
    for f in files:
        transcribe_audio(load_audio(f), options, backend)
    return time.perf_counter() - t0


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (ffmpeg): holds under load."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _reset_peak_rss() -> None:
    """Start this process's peak-RSS count (VmHWM) afresh, after the previous set's models were
    dropped and their memory returned, so each set's peak is that of one nightly run (Linux
    4.0+; elsewhere the count keeps the whole benchmark's peak)."""
    import gc

    from flows.nightly_worker import release_free_memory

    gc.collect()
    release_free_memory()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _table(label: str, r: dict[str, object]) -> list[str]:
    wall = float(r["wall"])  # type: ignore[arg-type]
    ticks: dict[str, float] = r["ticks"]  # type: ignore[assignment]
    rows = [f"| {label} stage | seconds | share of the run |", "|---|---|---|"]
    for stage in (*STAGE_ORDER, "orchestration"):
        s = ticks.get(stage, 0.0)
        name = {"proxy": "proxy (not overlapped)",
                "start-up": "Prefect server start-up (models load meanwhile)"}.get(stage, stage)
        rows.append(f"| {name} | {s:.1f} | {100 * s / wall:.1f} % |")
    rows.append(f"| **wall** | **{wall:.1f}** | the rows above sum to {sum(ticks.values()):.1f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--skip-translated", action="store_true", help="English set only")
    parser.add_argument("--proxy-niceness", type=int, help="the proxies' CPU niceness (default: the run's)")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not found")
        return 0
    from flows.demo import DEMO_MEDIA

    english = _files(ENGLISH, [DEMO_MEDIA, *synthetic_videos()])
    translated = _files(TRANSLATED, [])
    home = Path(tempfile.mkdtemp(prefix="cc-bench-prefect-"))
    os.environ.update({"PREFECT_HOME": str(home), "PREFECT_PROFILES_PATH": str(home / "profiles.toml"),
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
                       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"})
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.pop("COUNTERCLIPS_DB_URL", None)
    from prefect.server.api.server import SubprocessASGIServer

    load_before = os.getloadavg()
    # A workspace's first run also creates Prefect's database; later runs find it migrated.
    t0 = time.perf_counter()
    cold = SubprocessASGIServer()
    cold.start(timeout=120)
    cold_start = time.perf_counter() - t0
    cold.stop()
    results: dict[str, dict[str, object]] = {}
    server_rss = 0.0
    try:
        results["English"] = run_set(english, translate=False, proxy_niceness=args.proxy_niceness)
        print("English", results["English"], flush=True)
        proc = getattr(SubprocessASGIServer(), "server_process", None)
        server_rss = _vm_hwm_mb(proc.pid) if proc is not None else 0.0
        if not args.skip_translated and translated:
            results["translated"] = run_set(translated, translate=True, proxy_niceness=args.proxy_niceness)
            print("translated", results["translated"], flush=True)
        _stop_prefect_server()
        alone = transcription_alone(english)
    finally:
        _stop_prefect_server()
        shutil.rmtree(home, ignore_errors=True)
    load_after = os.getloadavg()
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()

    en = results["English"]
    cores = os.cpu_count() or 1

    def start_up(r: dict[str, object]) -> float:
        return float(r["ticks"].get("start-up", 0.0))  # type: ignore[union-attr]

    def hph(r: dict[str, object], with_server: bool = True) -> float:
        return float(r["footage"]) / (float(r["wall"]) - (0.0 if with_server else start_up(r)))  # type: ignore[arg-type]

    def overhead(r: dict[str, object]) -> float:
        ticks: dict[str, float] = r["ticks"]  # type: ignore[assignment]
        return (ticks.get("orchestration", 0.0) + start_up(r)) / float(r["wall"])  # type: ignore[arg-type]

    def bookkeeping(r: dict[str, object]) -> float:
        ticks: dict[str, float] = r["ticks"]  # type: ignore[assignment]
        return ticks.get("orchestration", 0.0) / (float(r["wall"]) - start_up(r))  # type: ignore[arg-type]

    en_wall = float(en["wall"])  # type: ignore[arg-type]
    en_min = float(en["footage"]) / 60  # type: ignore[arg-type]
    proxy_s = float(en["stage_seconds"].get("proxy", 0.0))  # type: ignore[union-attr]
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, on {cores} cores "
        f"shared with other agents (load average 1/5/15 min {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f} before, {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after). "
        f"One `run_nightly` per set, local runner, {en['workers']} worker threads, "
        f"{en['slots']} heavy slot(s), {en['threads']} threads per transcription (BLAS pinned to 1), "
        "faster-whisper `base` int8, proxies on (360p x264 ultrafast, keyframe every 1 s; "
        f"audio-only: AAC + waveform still; niceness {en['proxy_niceness']}), exports off. "
        "Each set is a one-shot run: it starts Prefect's temporary server itself and loads the "
        f"models on another thread meanwhile (start-up {start_up(en):.1f} s English, with the Prefect "
        f"database already made; the very first run of a workspace took {cold_start:.1f} s to start "
        "the server; 0 when `counterclips schedule` keeps a server for the workspace, which `run` "
        "reuses). \"With a server running\" below is the wall minus that start-up.",
        "",
        "| measure | target | result |",
        "|---|---|---|",
        f"| English footage per wall-clock hour, inbox → candidates + review proxies | ≥ 12 h/h | "
        f"**{hph(en):.1f} h/h** ({en['files']} files, {en_min:.1f} min in {en_wall:.1f} s; "
        f"{hph(en, False):.1f} h/h with a Prefect server already running) |",
    ]
    if "translated" in results:
        tr = results["translated"]
        lines.append(f"| with English translation | ≥ 6 h/h | **{hph(tr):.1f} h/h** ({tr['files']} files, "
                     f"{float(tr['footage']) / 60:.1f} min in {float(tr['wall']):.1f} s) |")  # type: ignore[arg-type]
    lines += [
        f"| the run vs transcription alone on the same English files | ≤ 1.25× | "
        f"**{en_wall / alone:.2f}×** ({(en_wall - start_up(en)) / alone:.2f}× with a server running; "
        f"transcription alone {alone:.1f} s = {alone / (en_min * 60):.3f}× real time here) |",
        f"| orchestration overhead (time in no stage + server start-up), English | ≤ 10 % | "
        f"**{100 * overhead(en):.1f} %** ({100 * bookkeeping(en):.1f} % with a server running) |",
    ]
    if "translated" in results:
        tr = results["translated"]
        lines.append(f"| same, translated | ≤ 10 % | **{100 * overhead(tr):.1f} %** "
                     f"({100 * bookkeeping(tr):.1f} % with a server running) |")
    lines += [
        f"| peak RSS of one run, this process (models, flow) | ≤ 2 GB | **{float(en['peak_rss']):.0f} MB** "
        f"English" + (f", **{float(results['translated']['peak_rss']):.0f} MB** translated"
                      if "translated" in results else "")
        + f" (the whole benchmark process, every set and the transcription-alone pass: {self_rss:.0f} MB; "
        f"largest child {child_rss:.0f} MB, Prefect server {server_rss:.0f} MB) |",
        f"| CPU seconds per footage second, this process and its ffmpeg children | — | "
        f"{float(en['cpu']) / float(en['footage']):.4f} English"  # type: ignore[arg-type]
        + (f", {float(results['translated']['cpu']) / float(results['translated']['footage']):.4f} translated"
           if "translated" in results else "") + " |",
        f"| proxy encode cost / source duration, English ({en['proxies']} proxies, {en['stills']} stills) | "
        f"— | {proxy_s / float(en['footage']):.3f}× ({proxy_s:.1f} s of encode, mostly overlapped) |",  # type: ignore[arg-type]
        "",
        *_table("English", en),
    ]
    if "translated" in results:
        lines += ["", *_table("translated", results["translated"])]
    lines += ["", f"Candidates proposed: {en['candidates']} English"
              + (f", {results['translated']['candidates']} translated." if "translated" in results else ".")]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
