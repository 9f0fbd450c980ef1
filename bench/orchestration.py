"""Where a nightly run's orchestration time goes (issue 19: overhead <= 10 % of a run's wall).

    .venv/bin/python bench/orchestration.py --tasks [--rounds N]
    .venv/bin/python bench/orchestration.py --timeline

`--tasks`: what Prefect costs per task run, with nothing else in the tasks: 13 "files" of chained
trivial tasks on the local runner's thread pool (3 threads), 6 per file (the nightly's tasks
before phase 7: probe, transcribe, diarize, flag, propose, proxy) against 3 per file (probe,
ingest, proxy), against Prefect's temporary server started before the clock. Prints the wall, this
process's CPU and the server's CPU (its events and task-run records), alternating, N rounds.

`--timeline`: a one-shot `counterclips run --no-exports --no-translate` over four English files in
a process of its own (Prefect's database made beforehand, as a workspace's later runs find it),
with a mark at each point of its start-up (server launched, the flow's modules in, each model
loaded, the head start's scan, probe and decode, the server answering, the flow's body, the first
step of each kind), this process's and the server's CPU at each; and the ticks `bench/nightly.py`'s
sampler counts as "start-up, nothing else running", split by which of our threads were alive.
Prints only; never writes RESULTS.md.
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "media"
TIMELINE_FILES = ("en_jfk_inaugural.flac", "en_2spk_phonecall_pyannote.wav",
                  "en_3spk_clips_picovoice_leopard.wav")


def _prefect_home() -> str:
    home = tempfile.mkdtemp(prefix="cc-bench-prefect-")
    os.environ.update({"PREFECT_HOME": home, "PREFECT_PROFILES_PATH": f"{home}/profiles.toml",
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"})
    os.environ.pop("PREFECT_API_URL", None)
    return home


def _proc_cpu(pid: int | None) -> float:
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def tasks(rounds: int) -> None:
    sys.path.insert(0, str(REPO))
    home = _prefect_home()
    from flows.local_prefect import TEMPORARY_SERVER

    os.environ["PREFECT_API_URL"] = TEMPORARY_SERVER.wait(120)
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    @task(cache_policy=NO_CACHE, persist_result=False)
    def step(prev: Any, i: int) -> int:
        return i

    def chains(files: int, per_file: int) -> None:
        @flow(persist_result=False, validate_parameters=False,
              task_runner=ThreadPoolTaskRunner(max_workers=3))
        def run() -> None:
            futures = []
            for i in range(files):
                prev = None
                for _ in range(per_file):
                    prev = step.submit(prev, i)
                    futures.append(prev)
            for f in futures:
                f.wait()

        run()

    chains(2, 2)  # the first flow run pays the client's and the server's first-call costs
    try:
        for r in range(rounds):
            for per_file in ((6, 3) if r % 2 == 0 else (3, 6)):
                cpu0, server0, t0 = _cpu(), _proc_cpu(TEMPORARY_SERVER.pid), time.perf_counter()
                chains(13, per_file)
                wall = time.perf_counter() - t0
                n = 13 * per_file
                ours, server = _cpu() - cpu0, _proc_cpu(TEMPORARY_SERVER.pid) - server0
                print(f"13 files x {per_file} tasks = {n}: wall {wall:.2f} s, this process {ours:.2f} CPU-s "
                      f"({1000 * ours / n:.1f} ms/task), server {server:.2f} CPU-s "
                      f"({1000 * server / n:.1f} ms/task); "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        TEMPORARY_SERVER.stop(drain=True)
        shutil.rmtree(home, ignore_errors=True)


def timeline() -> None:
    home = _prefect_home()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # the Prefect database made once, as a workspace's later runs find it
    subprocess.run([sys.executable, "-c", "from flows.local_prefect import TEMPORARY_SERVER as s; "
                    "s.wait(120); s.stop()"], env=env, cwd=str(REPO), check=True)
    ws = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    (ws / "inbox").mkdir()
    for name in TIMELINE_FILES:
        if (SHARED / name).is_file():
            shutil.copyfile(SHARED / name, ws / "inbox" / name)
    try:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-timeline", str(ws)],
                       env={**env, "COUNTERCLIPS_HOME": str(ws)}, cwd=str(REPO), check=True)
    finally:
        shutil.rmtree(ws, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def child_timeline(workspace: str) -> None:
    """Inside the child: `counterclips run`, with marks; see the module's docstring."""
    t0 = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from flows import local_prefect

    marks: list[tuple[float, str, str, float, float]] = []
    server = local_prefect.TEMPORARY_SERVER

    def mark(what: str) -> None:
        marks.append((time.perf_counter() - t0, what, threading.current_thread().name, _cpu(),
                      _proc_cpu(server.pid)))

    def wrap(module: Any, name: str, label: str) -> None:
        real = getattr(module, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            mark(f"{label} begins")
            try:
                return real(*args, **kwargs)
            finally:
                mark(f"{label} ends")

        setattr(module, name, wrapped)

    alive: dict[str, float] = {}
    real_start = local_prefect.TemporaryServer.start

    def start(self: Any) -> None:
        if self.running:
            return
        mark("server start asked")
        real_start(self)
        mark("server process launched")
        import flows.inbox
        import flows.nightly as nightly
        import flows.nightly_worker as work
        import flows.services.flagger_model
        import pipeline.media
        import pipeline.speakers
        import pipeline.transcribe

        mark("flows.nightly imported")
        wrap(pipeline.transcribe, "load_backend", "Whisper load")
        wrap(pipeline.speakers, "load_speaker_model", "speaker model load")
        wrap(flows.services.flagger_model, "load_flagger", "flagger load")
        wrap(flows.inbox, "scan_inbox", "inbox scan")
        wrap(work, "_run_probe", "probe")
        wrap(pipeline.media, "load_audio", "decode")
        wrap(pipeline.speakers, "speech_features", "speech features")
        wrap(nightly, "run_pass", "flow body")
        real_wait = local_prefect.TemporaryServer.wait

        def wait(self: Any, timeout: float = 90.0) -> str:
            mark("waiting for the server")
            try:
                return real_wait(self, timeout)
            finally:
                mark("server answers")

        local_prefect.TemporaryServer.wait = wait  # type: ignore[method-assign]

        def sample() -> None:
            seen: set[str] = set()
            last = time.perf_counter()
            while not {"transcribe", "flag"} <= seen:
                time.sleep(0.02)
                now = time.perf_counter()
                active = {k for k, v in list(work.ACTIVE.items()) if v > 0}
                for s in sorted(active - seen):
                    seen.add(s)
                    mark(f"first '{s}' active")
                if active == {"start-up"}:  # what bench/nightly.py counts as start-up not hidden
                    ours = {t.name.split(" ")[0] for t in threading.enumerate()}
                    mine = ours & {"warm-models", "head-start", "decode-ahead"}
                    key = "+".join(sorted(mine)) or "none of ours"
                    alive[key] = alive.get(key, 0.0) + now - last
                last = now

        threading.Thread(target=sample, daemon=True, name="bench-sampler").start()

    local_prefect.TemporaryServer.start = start  # type: ignore[method-assign]
    from flows.cli import main

    code = main(["run", "--workspace", workspace, "--no-exports", "--settle-seconds", "0", "--no-translate"])
    mark(f"run returns ({code})")
    print("| s since start | this process CPU-s | server CPU-s | thread | mark |\n|---|---|---|---|---|")
    for t, what, thread, ours, srv in marks:
        print(f"| {t:.2f} | {ours:.2f} | {srv:.2f} | {thread[:14]} | {what} |")
    print("sampler's 'start-up, nothing else running' ticks, by our threads alive: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(alive.items(), key=lambda kv: -kv[1])))
    print(f"load average {os.getloadavg()[0]:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", action="store_true", help="Prefect's cost per task run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeline", action="store_true", help="a one-shot run's start-up, marked")
    parser.add_argument("--child-timeline", metavar="WORKSPACE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_timeline:
        child_timeline(args.child_timeline)
        return 0
    if args.tasks:
        tasks(args.rounds)
    if args.timeline:
        if not SHARED.is_dir():
            print(f"skipped: {SHARED} not found")
            return 0
        timeline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
