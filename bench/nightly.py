"""Benchmark of a nightly run end to end (issues 7 and 19). Writes its section of bench/RESULTS.md.

    .venv/bin/python bench/nightly.py [--no-write] [--skip-translated] [--pairs N] [--no-head-start]
    .venv/bin/python bench/nightly.py --diarize-ab N [--no-write]

What an operator's `counterclips run --no-exports` does, on the footage of ../shared/media:

* English: the bundled demo interview, real English recordings, and four synthetic 720p
  interview videos (espeak-ng speech over a moving 1280×720 test picture, made here once);
* translated: non-English recordings with the English translation on.

Each set is `counterclips run --no-exports` in a process of its own over a fresh workspace, as an
operator runs it, review proxies included. While it runs, a sampler in that process reads which
steps are active every 20 ms (`flows.nightly_worker.ACTIVE`) and gives each tick to one stage
(transcribe > diarize > flag > propose > probe > proxy > preview > start-up); ticks with none are
the flow's own time ("orchestration": Prefect's bookkeeping, scanning, the report), ticks before
the flow's modules are imported are "imports", and the process's start and exit (Prefect's
workers drain, the temporary server stops) make up the rest of its wall. So the per-stage table
adds up to the wall time, and "proxy" counts only encode time that nothing heavier overlapped.
The English set runs one-shot (the run starts Prefect's temporary server itself, as `counterclips
run` does with no server kept for the workspace) and with a server kept (`PREFECT_API_URL`, as
`counterclips schedule` keeps one), in alternating order over `--pairs`: the orchestration
overhead is the one-shot wall minus the kept-server wall, plus the kept-server run's time in no
stage, over the one-shot wall.
`--diarize-ab N` instead runs the English set in this process N rounds of three: diarization
after Whisper, diarization begun beside Whisper in the idle-time helper process (the
default since phase 6),
and no diarization (order rotated; a server kept, proxies and previews off, so only ingest
runs): what diarization adds to ingest wall time is the mean difference over the mean wall
with it.
The same English files are then transcribed alone (decode + Whisper, model loaded once): the
limit the run is compared with. Peak RSS: the run's process (models, flow, threads).
"""

from __future__ import annotations

import argparse
import json
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

# ../shared beside the checkout (the repository), or two levels up (a worktree under wt/).
SHARED = next((p for p in (REPO.parent / "shared" / "media", REPO.parent.parent / "shared" / "media")
               if p.is_dir()), REPO.parent / "shared" / "media")
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
    """Gives each 20 ms of wall time to the heaviest step active then (or to "orchestration";
    before this process has imported the flow's worker module, to "imports": a CLI run's
    process start)."""

    def __init__(self, period: float = 0.02) -> None:
        self.period = period
        self.ticks: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            time.sleep(self.period)
            now = time.perf_counter()
            worker = sys.modules.get("flows.nightly_worker")
            if worker is None or not hasattr(worker, "ACTIVE"):
                self.ticks["imports"] += now - last
            else:
                active = {k for k, v in list(worker.ACTIVE.items()) if v > 0}
                self.ticks[next((s for s in STAGE_ORDER if s in active), "orchestration")] += now - last
            last = now

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child_run(workspace: str, translate: bool, head_start: bool = True) -> int:
    """Inside the subprocess of `cli_run`: `counterclips run` itself, sampled; prints its figures.
    `head_start=False` (the A/B of `--no-head-start`): the run does not begin the first file while
    the server starts."""
    t0 = time.perf_counter()
    with Sampler() as sampler:
        from flows.cli import main as cli_main

        if not head_start:
            from flows import nightly_worker

            nightly_worker.HEAD_START.begin = lambda *_a, **_k: None  # type: ignore[method-assign]

        code = cli_main(["run", "--workspace", workspace, "--no-exports", "--settle-seconds", "0",
                         *([] if translate else ["--no-translate"])])
    wall = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print("CHILD-RESULT " + json.dumps({"code": code, "wall": wall, "ticks": dict(sampler.ticks),
                                        "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                                        "peak_rss": _vm_hwm_mb(os.getpid())}), flush=True)
    return code


def cli_run(files: list[Path], kept_server: bool, translate: bool = False,
            head_start: bool = True) -> dict[str, object]:
    """`counterclips run --no-exports [--no-translate]` over a fresh workspace, as an operator runs
    it: a process of its own, one-shot (it starts Prefect's temporary server itself) or with a
    server kept (`PREFECT_API_URL`, as `counterclips schedule` keeps one). The wall is the
    process's, from start to exit (Prefect's workers drain and the server stops at exit)."""
    from flows.local_prefect import TEMPORARY_SERVER
    from flows.report import load_latest

    ws = _fresh_workspace(files)
    _stop_prefect_server()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PREFECT_API_URL", None)
    if kept_server:
        env["PREFECT_API_URL"] = TEMPORARY_SERVER.wait(120)
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    argv = [sys.executable, str(Path(__file__).resolve()), "--child-run", str(ws.root),
            *(["--child-translate"] if translate else []), *([] if head_start else ["--child-no-head-start"])]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=str(REPO))
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("CHILD-RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"counterclips run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    child = json.loads(lines[-1].split(" ", 1)[1])
    report = load_latest(ws)
    ticks = dict(child["ticks"])
    ticks["process start and exit"] = max(0.0, wall - sum(ticks.values()))
    failed = [f["status"] for f in report["files"] if f["status"] not in ("processed", "resumed")]
    if failed:
        print(f"warning: not processed: {failed}")
    out = {"wall": wall, "ticks": ticks, "cpu": _cpu_seconds() - cpu0, "peak_rss": child["peak_rss"],
           "footage": sum(float(f["duration"]) for f in report["files"]), "files": len(report["files"]),
           "candidates": report["candidates_proposed"], "kept_server": kept_server,
           "load": os.getloadavg()[0],
           "stage_seconds": report["stage_seconds"], "proxies": len(list(ws.proxies.glob("*.mp4"))),
           "stills": len(list(ws.proxies.glob("*.png")))}
    shutil.rmtree(ws.root, ignore_errors=True)
    return out


def run_set(files: list[Path], translate: bool, proxy_niceness: int | None = None, *,
            kept_server: bool = False, diarize: bool = True, proxies: bool = True,
            diarize_idle: bool = True) -> dict[str, object]:
    """One `run_nightly` over a fresh workspace holding `files`. `kept_server`: a server is up
    before the clock starts (otherwise the run starts its own, one-shot); `diarize`, `proxies`:
    the A/B of `--diarize-ab` turns them off; `diarize_idle` False diarizes wholly after Whisper."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.local_prefect import TEMPORARY_SERVER
    from flows.nightly import NightlyOptions, run_nightly
    from flows.nightly_worker import WorkOptions

    ws = _fresh_workspace(files)
    options = NightlyOptions(settle_seconds=0.0, build_proxies=proxies, render_exports=False,
                             render_previews=proxies,
                             work=replace(WorkOptions(), translate=translate, diarize=diarize,
                                          diarize_idle=diarize_idle))
    if proxy_niceness is not None:
        options = replace(options, proxy_niceness=proxy_niceness)
    _reset_worker_resources()
    _stop_prefect_server()  # a one-shot run starts its own; a kept one is started afresh here
    settings = {PREFECT_API_URL: TEMPORARY_SERVER.wait(120)} if kept_server else {}
    _reset_peak_rss()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    with temporary_settings(settings), Sampler() as sampler:
        report = run_nightly(ws, options)
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    peak_rss = _vm_hwm_mb(os.getpid())
    failed = [(f.name, f.reason) for f in report.files if f.status not in ("processed", "resumed")]
    if failed:
        print(f"warning: not processed: {failed}")
    footage = sum(f.duration for f in report.files)
    video = {f.name for f in report.files if f.name.endswith(".mp4")}
    proxy_files = sorted(ws.proxies.glob("*.mp4"))
    stills = len(list(ws.proxies.glob("*.png")))
    out = {"files": len(report.files), "footage": footage, "wall": wall, "ticks": dict(sampler.ticks),
           "stage_seconds": dict(report.stage_seconds), "candidates": report.candidates_proposed,
           "proxies": len(proxy_files), "stills": stills, "video_files": len(video),
           "video_footage": sum(f.duration for f in report.files if f.name in video),
           "threads": options.work.cpu_threads, "workers": options.max_workers,
           "slots": options.work.heavy_slots, "cpu": cpu, "peak_rss": peak_rss,
           "proxy_niceness": options.proxy_niceness, "kept_server": kept_server, "diarize": diarize,
           "load": os.getloadavg()[0]}
    _reset_worker_resources()
    shutil.rmtree(ws.root, ignore_errors=True)
    return out


def _stop_prefect_server() -> None:
    """Stop this process's temporary server after Prefect's event and log workers have sent it
    what they hold (stopped first, they retry a closed port for minutes)."""
    from flows.local_prefect import TEMPORARY_SERVER

    TEMPORARY_SERVER.stop(drain=True)


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
    """CPU seconds of this process, its finished children (ffmpeg) and the idle-time diarization
    helper if one runs (`--diarize-ab`'s idle arm): holds under load."""
    from pipeline.idle_diarization import HELPER

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + HELPER.cpu_seconds()


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
    extra = [k for k in ("imports", "process start and exit") if k in ticks]
    for stage in (*STAGE_ORDER, "orchestration", *extra):
        s = ticks.get(stage, 0.0)
        name = {"proxy": "proxy (not overlapped)",
                "start-up": "Prefect server start-up, nothing else running",
                "imports": "imports (process start, before the flow's modules are in)",
                "process start and exit": "interpreter start; at exit, Prefect's workers drain and "
                                          "the server stops",
                }.get(stage, stage)
        rows.append(f"| {name} | {s:.1f} | {100 * s / wall:.1f} % |")
    rows.append(f"| **wall** | **{wall:.1f}** | the rows above sum to {sum(ticks.values()):.1f} |")
    return rows


def _mean(runs: list[dict[str, object]], key: str) -> float:
    return sum(float(r[key]) for r in runs) / len(runs)  # type: ignore[arg-type]


def _orch(r: dict[str, object]) -> float:
    return float(r["ticks"].get("orchestration", 0.0))  # type: ignore[union-attr]


def _start_up(r: dict[str, object]) -> float:
    return float(r["ticks"].get("start-up", 0.0))  # type: ignore[union-attr]


def _setup_prefect_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="cc-bench-prefect-"))
    os.environ.update({"PREFECT_HOME": str(home), "PREFECT_PROFILES_PATH": str(home / "profiles.toml"),
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
                       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"})
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.pop("COUNTERCLIPS_DB_URL", None)
    return home


def _commit() -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()


def diarize_ab(english: list[Path], pairs: int) -> str:
    """English ingest with diarization after Whisper, with diarization begun beside
    Whisper in the idle-time helper (`WorkOptions(diarize_idle=True)`), and without diarization,
    rotating the order each round; the server kept, proxies and previews off (they depend on the candidates,
    which diarization changes)."""
    load_before = os.getloadavg()
    arms = {"after": {"diarize": True, "diarize_idle": False},
            "idle": {"diarize": True, "diarize_idle": True}, "off": {"diarize": False}}
    names = list(arms)
    runs: dict[str, list[dict[str, object]]] = {a: [] for a in arms}
    rows = ["| run | diarization | wall s | CPU s | diarize stage s | load avg (1 min) after |",
            "|---|---|---|---|---|---|"]
    for i in range(pairs):
        for arm in names[i % 3:] + names[:i % 3]:
            r = run_set(english, translate=False, kept_server=True, proxies=False, **arms[arm])
            runs[arm].append(r)
            print(arm, r, flush=True)
            rows.append(f"| {sum(len(v) for v in runs.values())} | {arm} | "
                        f"{float(r['wall']):.1f} | {float(r['cpu']):.1f} | "  # type: ignore[arg-type]
                        f"{float(r['ticks'].get('diarize', 0.0)):.1f} | {float(r['load']):.1f} |")  # type: ignore[union-attr, arg-type]
    _stop_prefect_server()
    load_after = os.getloadavg()
    off, cpu_off = _mean(runs["off"], "wall"), _mean(runs["off"], "cpu")
    footage = float(runs["after"][0]["footage"])  # type: ignore[arg-type]
    summary = []
    for arm, what in (("after", "after Whisper"), ("idle", "begun in the idle-time helper (the default)")):
        wall, cpu = _mean(runs[arm], "wall"), _mean(runs[arm], "cpu")
        summary.append(f"- diarization {what}: **{wall:.1f} s against {off:.1f} s without: adds "
                       f"{wall - off:.1f} s = {100 * (wall - off) / wall:.1f} % of ingest wall time** "
                       f"(target <= 5 %); CPU {cpu:.1f} vs {cpu_off:.1f} CPU-s "
                       f"({100 * (cpu - cpu_off) / cpu:.1f} %).")
    return "\n".join([
        f"Diarization A/B, measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"commit {_commit()}, "
        f"{os.cpu_count()} cores (load average 1/5/15 min {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f} before, {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after). "
        f"English set ({runs['after'][0]['files']} files, {footage / 60:.1f} min), `run_nightly` with a "
        "Prefect server kept (started before the clock), proxies and previews off, so the wall is ingest's "
        "(probe, transcribe, diarize, flag, propose); \"after\" diarizes after Whisper (the "
        "default), \"idle\" begins each file's diarization beside Whisper in a helper process in the "
        "idle scheduling class (`WorkOptions(diarize_idle=True)`), \"off\" records the diarize step "
        "without speakers (`WorkOptions(diarize=False)`, as `ingest --no-diarize`). Order rotated each "
        "round.",
        "",
        *rows,
        "",
        *summary,
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--skip-translated", action="store_true", help="English set only")
    parser.add_argument("--pairs", type=int, default=1,
                        help="English one-shot / kept-server pairs, alternating order (default 1)")
    parser.add_argument("--diarize-ab", type=int, default=0, metavar="N",
                        help="only the diarization A/B: N rounds of after-Whisper, idle-helper, none")
    parser.add_argument("--child-run", metavar="WORKSPACE", help=argparse.SUPPRESS)
    parser.add_argument("--child-translate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-no-head-start", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-head-start", action="store_true",
                        help="one-shot runs do not begin the first file while the server starts (A/B)")
    args = parser.parse_args(argv)
    if args.child_run:
        return child_run(args.child_run, args.child_translate, not args.child_no_head_start)
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not found")
        return 0
    from flows.demo import DEMO_MEDIA
    from flows.local_prefect import TEMPORARY_SERVER

    english = _files(ENGLISH, [DEMO_MEDIA, *synthetic_videos()])
    translated = _files(TRANSLATED, [])
    home = _setup_prefect_home()
    if args.diarize_ab:
        try:
            text = diarize_ab(english, args.diarize_ab)
        finally:
            _stop_prefect_server()
            shutil.rmtree(home, ignore_errors=True)
        print(text)  # never written: its own paragraph, pasted by hand
        return 0

    load_before = os.getloadavg()
    # A workspace's first run also creates Prefect's database; later runs find it migrated.
    t0 = time.perf_counter()
    TEMPORARY_SERVER.wait(120)
    cold_start = time.perf_counter() - t0
    _stop_prefect_server()
    oneshot: list[dict[str, object]] = []
    kept: list[dict[str, object]] = []
    results: dict[str, dict[str, object]] = {}
    try:
        for i in range(max(1, args.pairs)):
            for keep in ((False, True) if i % 2 == 0 else (True, False)):
                r = cli_run(english, kept_server=keep, head_start=not args.no_head_start)
                (kept if keep else oneshot).append(r)
                print("English, server kept" if keep else "English, one-shot", r, flush=True)
        results["English"] = oneshot[0]
        if not args.skip_translated and translated:
            results["translated"] = cli_run(translated, kept_server=False, translate=True,
                                            head_start=not args.no_head_start)
            print("translated", results["translated"], flush=True)
        _stop_prefect_server()
        alone = transcription_alone(english)
    finally:
        _stop_prefect_server()
        shutil.rmtree(home, ignore_errors=True)
    load_after = os.getloadavg()

    en = results["English"]
    cores = os.cpu_count() or 1
    wall_one, wall_kept = _mean(oneshot, "wall"), _mean(kept, "wall")
    bookkeeping = sum(_orch(r) for r in kept) / len(kept)
    extra = wall_one - wall_kept
    overhead = (extra + bookkeeping) / wall_one

    def hph(r: dict[str, object]) -> float:
        return float(r["footage"]) / float(r["wall"])  # type: ignore[arg-type]

    def sampled(r: dict[str, object]) -> float:
        return (_orch(r) + _start_up(r)) / float(r["wall"])  # type: ignore[arg-type]

    en_min = float(en["footage"]) / 60  # type: ignore[arg-type]
    proxy_s = float(en["stage_seconds"].get("proxy", 0.0))  # type: ignore[union-attr]
    pairs = "".join(f"; pair {i + 1}: one-shot {float(a['wall']):.1f} s, kept {float(b['wall']):.1f} s"  # type: ignore[arg-type]
                    for i, (a, b) in enumerate(zip(oneshot, kept, strict=True)))
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {_commit()}, "
        f"on {cores} cores "
        f"(load average 1/5/15 min {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f} before, {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after). "
        "Each set is `counterclips run --no-exports` (`--no-translate` for English) in a process of its "
        "own over a fresh workspace, as an operator runs it (local runner, counts from the cores, "
        "faster-whisper `base` int8, review proxies and previews on, proxies at niceness 19), sampled "
        "inside that process; the wall is the process's, start to exit. The English set ran one-shot "
        "(the run starts Prefect's temporary server itself) and with a server kept (`PREFECT_API_URL`, "
        f"as `counterclips schedule` keeps one), {len(oneshot)} pair(s) in alternating order{pairs}"
        f"{'; one-shot runs without the head start (`--no-head-start`)' if args.no_head_start else ''}. "
        f"The very first server start of a Prefect database took {cold_start:.1f} s. **Orchestration "
        "overhead = (one-shot wall − kept-server wall) + the kept-server run's time in no stage after "
        "its flow modules are in (Prefect's task bookkeeping, scanning, the report), over the one-shot "
        "wall** (means over the pairs).",
        "",
        "| measure | target | result |",
        "|---|---|---|",
        f"| English footage per wall-clock hour, inbox → candidates + review proxies | ≥ 12 h/h | "
        f"**{hph(en):.1f} h/h** ({en['files']} files, {en_min:.1f} min in {float(en['wall']):.1f} s, "
        f"one-shot; {60 * en_min / wall_kept:.1f} h/h with a Prefect server kept, mean of {len(kept)}) |",
    ]
    if "translated" in results:
        tr = results["translated"]
        lines.append(f"| with English translation | ≥ 6 h/h | **{hph(tr):.1f} h/h** ({tr['files']} files, "
                     f"{float(tr['footage']) / 60:.1f} min in {float(tr['wall']):.1f} s, one-shot) |")  # type: ignore[arg-type]
    lines += [
        f"| the run vs transcription alone on the same English files | ≤ 1.25× | "
        f"**{wall_one / alone:.2f}×** one-shot ({wall_kept / alone:.2f}× with a server kept; means; "
        f"transcription alone {alone:.1f} s = {alone / (en_min * 60):.3f}× real time here) |",
        f"| orchestration overhead of a one-shot `counterclips run`, English | ≤ 10 % | "
        f"**{100 * overhead:.1f} %** (one-shot {wall_one:.1f} s − kept {wall_kept:.1f} s = {extra:.1f} s, "
        f"+ {bookkeeping:.1f} s in no stage; {100 * bookkeeping / wall_kept:.1f} % with a server kept; "
        f"the sampler's count in the one-shot run, start-up not hidden + no stage: "
        f"{100 * sampled(en):.1f} %) |",
    ]
    if "translated" in results:
        tr = results["translated"]
        lines.append(f"| same, translated (sampler's count only: start-up not hidden + no stage) | ≤ 10 % | "
                     f"{100 * sampled(tr):.1f} % |")
    lines += [
        f"| peak RSS of one run's process (models, flow) | ≤ 2 GB | **{float(en['peak_rss']):.0f} MB** "
        f"English" + (f", **{float(results['translated']['peak_rss']):.0f} MB** translated"
                      if "translated" in results else "") + " |",
        f"| CPU seconds per footage second, the run's process and its children (ffmpeg, the server) | — | "
        f"{float(en['cpu']) / float(en['footage']):.4f} English one-shot"  # type: ignore[arg-type]
        + (f", {float(results['translated']['cpu']) / float(results['translated']['footage']):.4f} translated"
           if "translated" in results else "") + " |",
        f"| proxy encode cost / source duration, English ({en['proxies']} proxies, {en['stills']} stills) | "
        f"— | {proxy_s / float(en['footage']):.3f}× ({proxy_s:.1f} s of encode, mostly overlapped) |",  # type: ignore[arg-type]
        "",
        *_table("English one-shot", en),
        "",
        *_table("English, server kept", kept[0]),
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
