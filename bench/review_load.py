"""Review app under load (issues 5 and 19): N candidates, M concurrent reviewers on loopback,
on SQLite and on a real PostgreSQL server, with 1 or more uvicorn workers.

Seeds a workspace once through the real store (or reuses `--snapshot`, a database this script
seeded before), then for each database × worker count: a fresh copy of that data (SQLite: a
file copy; PostgreSQL: a new database on a throwaway server started here as the tests do, rows
copied table by table), `counterclips review serve --workers W` as a subprocess on 127.0.0.1,
and M reviewer threads (httpx, one session each). Every reviewer repeats: open the queue (a
random filter, or the next page of the last one by its keyset link), open a candidate's page
(the cue tracks and waveforms are seeded as ingest's propose step and the first page view store
them; the comment thread), pin a comment at a timecode, approve it (a POST with its CSRF token).
Half of the approvals target risky candidates shared by two reviewers, so four-eyes approvals
race on the same row. Reports p50/p95 of the queue page, the candidate page, the comment and the
approval, and checks that the approvals in the database equal the approvals the server confirmed.

    .venv/bin/python bench/review_load.py --candidates 100000 --reviewers 50 [--rounds 10]
        [--think 0.5] [--db sqlite,postgres] [--workers 1,2] [--snapshot FILE] [--write-results]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import publish  # noqa: E402

SECTION = "## Review page at 100,000 candidates (issue 19, `bench/review_load.py`)"
PASSWORD = "bench-password-123"
PLAN = re.compile(r'name="plan_hash" value="([0-9a-f]*)"')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'href="(/\?[^"]*)" rel="next"')
FILTERS = [{}, {"status": "proposed"}, {"risk": "justifies_violence"}, {"theme": "coercion_fear"},
           {"language": "ar"}, {"status": "approved"}, {"theme": "false_promises", "language": "fr"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(db_file: Path, candidates: int) -> None:
    """A SQLite database with `candidates` candidates (seeded through the real store)."""
    from clips_metadata.store import Store
    from tests.review.seed import seed_bulk

    with Store.open(f"sqlite:///{db_file}") as store:
        t = time.perf_counter()
        seed_bulk(store, candidates=candidates)
        print(f"seeded {candidates} candidates in {time.perf_counter() - t:.1f} s", flush=True)
        _seed_waveforms(store)
        t = time.perf_counter()
        _seed_tracks(store)
        print(f"built cue tracks in {time.perf_counter() - t:.1f} s", flush=True)


def _seed_waveforms(store: object) -> None:
    """Stored peaks for every seeded interview (as the first page view would store them)."""
    import numpy as np

    from clips_metadata.waveforms_repo import WaveformsRepo
    from pipeline.waveform import Peaks

    repo = WaveformsRepo(store)
    rng = np.random.default_rng(3)
    for iv in store.list_interviews():
        n = int(max(iv.duration, 60.0) * 50)
        hi = rng.integers(0, 127, n, dtype=np.int8)
        pairs = np.stack([-hi, hi], axis=1).astype(np.int8)
        repo.put(iv.sha256, Peaks(50, pairs.tobytes()))


def _seed_tracks(store: object) -> None:
    """Each candidate's first cue track, as the ingest's propose step builds it."""
    from pipeline.frames import media_fps
    from review.tracks import store_first_tracks

    for iv in store.list_interviews():
        cands = store.list_candidates(interview_id=iv.id, limit=1_000_000)
        if cands:
            words = [w for s in store.get_sentences(cands[0].transcript_id) for w in s.words]
            store_first_tracks(store, cands, words, media_fps(iv.media))


def ensure_users(db_file: Path, reviewers: int) -> None:
    """An admin and `reviewers` reviewer accounts (rev00, rev01, ...), added when missing."""
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review.passwords import hash_password

    with Store.open(f"sqlite:///{db_file}") as store:
        rs = ReviewStore(store)
        h = hash_password(PASSWORD)
        for name, role in [("admin", "admin"), *((f"rev{i:02d}", "reviewer") for i in range(reviewers))]:
            if rs.get_user(name) is None:
                rs.add_user(name, role, h)


def plan_ids(db_file: Path) -> tuple[list[int], list[int], dict[int, list[str]]]:
    """(clean candidate ids, risky candidate ids, risks per risky id) among the first 4,000."""
    from clips_metadata.store import Store

    clean, risky, risks = [], [], {}
    with Store.open(f"sqlite:///{db_file}") as store:  # migrates the snapshot once, to head
        for c in store.list_candidates(limit=4000):
            if c.risks:
                risky.append(c.id)
                risks[c.id] = list(c.risks)
            else:
                clean.append(c.id)
    return clean, risky, risks


def copy_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def copy_to_postgres(src: Path, url: str) -> None:
    """Migrate the PostgreSQL database at `url` and copy every table's rows from `src`."""
    import sqlalchemy as sa

    from clips_metadata.store import Store
    from clips_metadata.tables import Base

    Store.open(url).close()
    source = sa.create_engine(f"sqlite:///{src}")
    target = sa.create_engine(url)
    with source.connect() as rd, target.begin() as wr:
        for table in Base.metadata.sorted_tables:
            rows = rd.execute(sa.select(table)).mappings()
            while chunk := [dict(r) for r in rows.fetchmany(5000)]:
                wr.execute(table.insert(), chunk)
            if "id" in table.c:
                wr.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                   f"coalesce((SELECT max(id) FROM {table.name}), 1))")
        wr.exec_driver_sql("ANALYZE")
    source.dispose()
    target.dispose()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    from tests.fixtures_pg import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


@dataclass
class Run:
    db: str
    workers: int
    queue_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    comment_ms: list[float] = field(default_factory=list)
    approve_ms: list[float] = field(default_factory=list)
    login_ms: list[float] = field(default_factory=list)  # before the timed rounds, not in the table
    confirmed: int = 0
    in_db: int = 0
    events: int = 0
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    db_root: str = ""  # the throwaway PostgreSQL cluster's directory (its CPU is counted)
    server_cpu: float = 0.0  # CPU-s of the server's processes (uvicorn and its workers) during the load
    worker_cpu: list[float] = field(default_factory=list)  # each uvicorn worker's share of it, CPU-s
    db_cpu: float | None = None  # CPU-s of the PostgreSQL server's processes (None: not measured)
    client_cpu: float = 0.0  # CPU-s of this process's reviewer threads during the load

    def cpu_line(self) -> str:
        """Where the 2 cores went: CPU per round and the cores the run kept busy (a p95 far above
        a round's own CPU with busy cores near the machine's count is queueing, not slow code)."""
        rounds = max(1, self.confirmed + len(self.failures))
        busy = (self.server_cpu + self.client_cpu) / self.wall if self.wall else 0.0
        shares = "/".join(f"{c / max(sum(self.worker_cpu), 1e-9):.0%}" for c in self.worker_cpu)
        db = "" if self.db_cpu is None else f", PostgreSQL's own {self.db_cpu / rounds * 1000:.0f} ms"
        return (f"{self.db}, {self.workers} workers: server {self.server_cpu / rounds * 1000:.0f} ms "
                f"(workers' shares {shares}){db} "
                f"and client {self.client_cpu / rounds * 1000:.0f} ms of CPU per round, "
                f"{rounds / self.wall:.1f} rounds/s, {busy:.2f} cores busy over {self.wall:.1f} s "
                f"(logins before the rounds, all at once: p50 / p95 {pct(self.login_ms, 50):.0f} / "
                f"{pct(self.login_ms, 95):.0f} ms)")


def serve(root: Path, db_url: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {**os.environ, "COUNTERCLIPS_HOME": str(root), "COUNTERCLIPS_DB_URL": db_url}
    # The server's log goes to a file: an unread pipe fills up and stalls the server mid-run.
    log = (root / "server.log").open("w", encoding="utf-8")
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "flows.cli", "review", "serve", "--workspace", str(root), "--port", str(port),
         "--workers", str(workers)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    log.close()
    return server, f"http://127.0.0.1:{port}"


def wait_ready(server: subprocess.Popen[str], base: str, log: Path, workers: int = 1) -> None:
    """Until the login page answers and every worker has started: with one worker still warming
    up, the reviewers' kept-alive connections would all go to the other one for the whole run."""
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            started = log.read_text(encoding="utf-8").count("Application startup complete")
            if started >= workers and httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start; its log: {log.read_text(encoding='utf-8')[-4000:]}")
        time.sleep(0.3)


def load(run: Run, base: str, args: argparse.Namespace,
         ids: tuple[list[int], list[int], dict[int, list[str]]], server_pid: int) -> None:
    import httpx

    clean, risky, risks = (list(x) if not isinstance(x, dict) else x for x in ids)
    rng = random.Random(11)
    rng.shuffle(clean)
    rng.shuffle(risky)
    per = args.rounds
    half, k = per // 2, per - per // 2
    plans: list[list[tuple[int, list[str]]]] = []
    for i in range(args.reviewers):
        mine = clean[i * half:(i + 1) * half]
        pair = i // 2  # reviewers 2j and 2j+1 both approve the same risky candidates
        shared = risky[pair * k:(pair + 1) * k]
        jobs = [(c, []) for c in mine] + [(c, risks[c]) for c in shared]
        rng.shuffle(jobs)
        plans.append(jobs)
    lock = threading.Lock()

    def timed(into: list[float], fn, *a, **kw):  # noqa: ANN001, ANN202
        t = time.perf_counter()
        resp = fn(*a, **kw)
        with lock:
            into.append((time.perf_counter() - t) * 1000)
        return resp

    # Everyone logs in first, then the timed rounds start together: a working day's steady state
    # (an argon2 login costs ~0.2 CPU-s, and 50 of them at once would sit in front of the first
    # rounds). The logins are timed apart.
    logged_in = threading.Barrier(args.reviewers + 1)

    def reviewer(i: int) -> None:
        waited = [False]

        def ready() -> None:  # every reviewer passes the barrier once, logged in or not
            if not waited[0]:
                waited[0] = True
                logged_in.wait()

        try:
            review_rounds(i, ready)
        except httpx.HTTPError as exc:  # a timeout or reset ends this reviewer; it is reported
            with lock:
                run.failures.append(f"rev{i:02d}: {type(exc).__name__}")
        finally:
            ready()

    def review_rounds(i: int, ready: Callable[[], None]) -> None:
        r = random.Random(i)
        with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as http:
            t = time.perf_counter()
            token = TOKEN.search(http.get("/login").text).group(1)
            resp = http.post("/login", data={"username": f"rev{i:02d}", "password": PASSWORD,
                                             "csrf_token": token})
            with lock:
                run.login_ms.append((time.perf_counter() - t) * 1000)
            if resp.status_code != 303:
                run.failures.append(f"login rev{i:02d}: {resp.status_code}")
                return
            token = TOKEN.search(http.get("/").text).group(1)
            ready()
            next_url = ""
            for cid, acks in plans[i]:
                time.sleep(r.uniform(0, 2 * args.think))
                if next_url and r.random() < 0.5:
                    q = timed(run.queue_ms, http.get, next_url.replace("&amp;", "&"))
                else:
                    q = timed(run.queue_ms, http.get, "/", params=r.choice(FILTERS))
                found = NEXT.search(q.text)
                next_url = found.group(1) if found else ""
                if q.status_code != 200:
                    run.failures.append(f"queue {q.status_code}")
                time.sleep(r.uniform(0, 2 * args.think))
                p = timed(run.page_ms, http.get, f"/candidates/{cid}")
                if p.status_code != 200:
                    run.failures.append(f"page {cid}: {p.status_code}")
                cm = timed(run.comment_ms, http.post, f"/candidates/{cid}/comments",
                           data={"csrf_token": token, "version": 1, "at": f"{r.uniform(0, 5):.2f}",
                                 "body": f"rev{i:02d}: check this moment"})
                if cm.status_code != 303:
                    run.failures.append(f"comment {cid}: {cm.status_code}")
                time.sleep(r.uniform(0, 2 * args.think))
                # The approval names the plan the page showed (its preview); `then=next` makes a
                # refusal (redirect back to this page) tell apart from a success (to the next item).
                plan = PLAN.search(p.text)
                a = timed(run.approve_ms, http.post, f"/candidates/{cid}/decide",
                          data={"csrf_token": token, "action": "approve", "version": 1, "ack": acks,
                                "plan_hash": plan.group(1) if plan else "", "then": "next"})
                with lock:
                    refused = a.headers.get("location", "").rstrip("/").endswith(f"/candidates/{cid}")
                    if a.status_code == 303 and not refused:
                        run.confirmed += 1
                    else:
                        run.failures.append(f"approve {cid}: {a.status_code}{' refused' if refused else ''}")

    threads = [threading.Thread(target=reviewer, args=(i,)) for i in range(args.reviewers)]
    for t in threads:
        t.start()
    logged_in.wait()
    before = os.getloadavg()[0]
    workers0, db0 = _children_cpu(server_pid), _db_cpu(run.db_root)
    server_cpu0, client_cpu0 = _tree_cpu(server_pid), time.process_time()
    started = time.perf_counter()
    for t in threads:
        t.join()
    run.wall = time.perf_counter() - started
    run.load = (before, os.getloadavg()[0])
    run.server_cpu = _tree_cpu(server_pid) - server_cpu0
    run.client_cpu = time.process_time() - client_cpu0
    workers1, db1 = _children_cpu(server_pid), _db_cpu(run.db_root)
    # the busiest `workers` children (uvicorn also starts a helper process that does nothing here)
    used = sorted((workers1[p] - workers0.get(p, 0.0) for p in workers1), reverse=True)
    run.worker_cpu = used[:run.workers]
    if db0 is not None and db1 is not None:
        run.db_cpu = db1 - db0


def _children_cpu(pid: int) -> dict[int, float]:
    """CPU-s of each direct child of `pid` (uvicorn's workers; the server itself with 1 worker)."""
    import psutil

    try:
        procs = psutil.Process(pid).children() or [psutil.Process(pid)]
    except psutil.NoSuchProcess:
        return {}
    out = {}
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
    return out


def _db_cpu(root: str) -> float | None:
    """CPU-s of the PostgreSQL server whose cluster lives under `root` (its postmaster and
    backends), or None without one. A backend that exits takes its CPU with it, so the pool
    must keep its connections for this to be whole (it does: `StoreOptions.pool_size`)."""
    if not root:
        return None
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["name"] == "postgres" and root in " ".join(proc.info["cmdline"] or ()):
                for p in (proc, *proc.children()):
                    t = p.cpu_times()
                    total += t.user + t.system
    return total


def _tree_cpu(pid: int) -> float:
    """CPU-s (user + system) of process `pid` and its live children."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def count_approvals(run: Run, db_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        run.in_db = int(conn.scalar(sa.text("SELECT count(*) FROM approvals")) or 0)
        approve_events = "SELECT count(*) FROM review_events WHERE action='approve'"
        run.events = int(conn.scalar(sa.text(approve_events)) or 0)
    engine.dispose()


def one_run(db: str, workers: int, snapshot: Path, pg_url: str, args: argparse.Namespace,
            ids: tuple[list[int], list[int], dict[int, list[str]]]) -> Run:
    root = Path(tempfile.mkdtemp(prefix="cc-review-bench-"))
    from clips_metadata.workspace import Workspace

    ws = Workspace(root).ensure()
    if db == "sqlite":
        copy_sqlite(snapshot, ws.database)
        db_url = f"sqlite:///{ws.database}"
    else:
        import sqlalchemy as sa

        # the rows are copied once into a template database; each run starts from a copy of it
        def url_of(name: str) -> str:
            return sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)

        admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = 'bench_seed'").first():
                conn.exec_driver_sql('CREATE DATABASE "bench_seed"')
                t = time.perf_counter()
                copy_to_postgres(snapshot, url_of("bench_seed"))
                print(f"copied into PostgreSQL in {time.perf_counter() - t:.1f} s", flush=True)
            name = f"bench_{workers}_{int(time.time())}"
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "bench_seed"')
        admin.dispose()
        db_url = url_of(name)
    run = Run(db, workers)
    if db != "sqlite":
        found = re.search(r"host=(/[^&]+)/sock", pg_url)
        run.db_root = found.group(1) if found else ""
    server, base = serve(root, db_url, workers)
    try:
        wait_ready(server, base, root / "server.log", workers)
        load(run, base, args, ids, server.pid)
    finally:
        from flows.local_prefect import stop_process

        stop_process(server, 15.0)
    count_approvals(run, db_url)
    if run.failures:  # keep the server's log for the reader of the failures
        print(f"failures: the server's log is kept in {root / 'server.log'}", flush=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return run


def report(runs: list[Run], args: argparse.Namespace, commit: str, uptime: str) -> str:
    lines = [
        f"{args.candidates:,} candidates, {args.reviewers} concurrent reviewers on loopback, "
        f"commit {commit}; each reviewer {args.rounds} rounds of queue page (a random filter, or the "
        "next page of the last one by its keyset link) + candidate page + comment POST + approval POST, "
        "think time "
        f"uniform 0-{2 * args.think:g} s between clicks; every reviewer logs in before the timed "
        f"rounds start. `uptime` before the runs: {uptime}. "
        "Machine: 2 cores.",
        "",
        "| database | uvicorn workers | queue p50 / p95 ms | candidate page p50 / p95 ms | "
        "comment p50 / p95 ms | approval p50 / p95 ms | load before / after | approvals lost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        # Lost: confirmed to a reviewer but not stored. Stored but unconfirmed (the reviewer saw
        # a timeout or an error page) is counted apart: nothing is lost, the page shows it later.
        if r.confirmed > r.in_db or r.in_db != r.events:
            lost = f"LOST ({r.confirmed} confirmed, {r.in_db} stored, {r.events} audited)"
        elif r.in_db > r.confirmed:
            lost = f"none ({r.in_db - r.confirmed} stored without the reviewer seeing it confirmed)"
        else:
            lost = "none"
        lines.append(
            f"| {r.db} | {r.workers} | {pct(r.queue_ms, 50):.0f} / {pct(r.queue_ms, 95):.0f} | "
            f"{pct(r.page_ms, 50):.0f} / {pct(r.page_ms, 95):.0f} | "
            f"{pct(r.comment_ms, 50):.0f} / {pct(r.comment_ms, 95):.0f} | "
            f"{pct(r.approve_ms, 50):.0f} / {pct(r.approve_ms, 95):.0f} | "
            f"{r.load[0]:.1f} / {r.load[1]:.1f} | {lost} (confirmed {r.confirmed}, failures "
            f"{len(r.failures)}) |")
    lines += ["", "CPU: " + "; ".join(r.cpu_line() for r in runs) + "."]
    lines += ["", "Target (issue 19): p95 < 100 ms for the queue, candidate page and approval, "
              "on SQLite and PostgreSQL."]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=100_000)
    p.add_argument("--reviewers", type=int, default=50)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--think", type=float, default=0.5)
    p.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    p.add_argument("--workers", default="1,2", help="comma-separated uvicorn worker counts")
    p.add_argument("--snapshot", type=Path, help="a SQLite file seeded by this script before (reused)")
    p.add_argument("--write-results", action="store_true")
    args = p.parse_args()
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    workers = [int(w) for w in args.workers.split(",")]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,  # noqa: S607
                            text=True, check=False).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="cc-review-seed-"))
    snapshot = args.snapshot or tmp / "seed.sqlite3"
    if args.snapshot is None or not args.snapshot.exists():
        seed(snapshot, args.candidates)
    ensure_users(snapshot, args.reviewers)
    ids = plan_ids(snapshot)
    runs: list[Run] = []
    with contextlib.ExitStack() as stack:
        pg_url = stack.enter_context(postgres_server()) if "postgres" in dbs else ""
        for db in dbs:
            for w in workers:
                run = one_run(db, w, snapshot, pg_url, args, ids)
                row = next(x for x in report([run], args, commit, uptime).splitlines()
                           if x.startswith(f"| {run.db} |"))
                print(row, run.cpu_line(), sep="\n", flush=True)
                if run.failures:
                    print("failures:", *run.failures[:5], sep="\n  ", flush=True)
                runs.append(run)
    shutil.rmtree(tmp, ignore_errors=True)
    publish(SECTION, report(runs, args, commit, uptime), write=args.write_results)
    return 0 if all(r.confirmed == r.in_db for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
