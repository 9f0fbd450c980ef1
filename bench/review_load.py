"""Review app under load (issue 5): 10,000 candidates, 20 concurrent reviewers on loopback.

Seeds a fresh workspace through the real store, starts `counterclips review serve` as a
subprocess on 127.0.0.1, and runs 20 reviewer threads (httpx, one session each). Every reviewer
alternates: open the queue (random filter and page), open a candidate page (cue track built and
stored on first view, stored waveform drawn, comment thread), pin a comment at a timecode, and
approve the candidate (a POST with its CSRF token). Half of the approvals target risky
candidates shared by two reviewers, so four-eyes approvals race on the same row. Reports
p50/p95 latency of the queue page, the candidate page, a comment and an approval,
and checks that the approvals in the database equal the approvals the server confirmed.

    .venv/bin/python bench/review_load.py [--candidates 10000] [--reviewers 20] [--rounds 20]
        [--think 0.5] [--write-results]

`--think` is the mean pause of a reviewer between clicks (seconds, uniform 0..2x); 0 runs the
reviewers back to back (a stress test: latency then measures queueing behind 19 others).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## Editor workstation under load (issue 14, `bench/review_load.py`)"
PASSWORD = "bench-password-123"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(root: Path, candidates: int, reviewers: int) -> tuple[list[int], list[int], dict[int, list[str]]]:
    """Returns (clean candidate ids, risky candidate ids, risks per risky id)."""
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace
    from review.passwords import hash_password
    from tests.review.seed import seed_bulk

    ws = Workspace(root).ensure()
    with Store.for_workspace(ws) as store:
        t = time.perf_counter()
        seed_bulk(store, candidates=candidates)
        print(f"seeded {candidates} candidates in {time.perf_counter() - t:.1f} s", flush=True)
        rs = ReviewStore(store)
        h = hash_password(PASSWORD)
        rs.add_user("admin", "admin", h)
        for i in range(reviewers):
            rs.add_user(f"rev{i:02d}", "reviewer", h)
        clean, risky, risks = [], [], {}
        _seed_waveforms(store)
        t = time.perf_counter()
        _seed_tracks(store)
        print(f"built cue tracks in {time.perf_counter() - t:.1f} s", flush=True)
        for c in store.list_candidates(limit=4000):
            if c.risks:
                risky.append(c.id)
                risks[c.id] = list(c.risks)
            else:
                clean.append(c.id)
    return clean, risky, risks


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
        cands = store.list_candidates(interview_id=iv.id, limit=100_000)
        if cands:
            words = [w for s in store.get_sentences(cands[0].transcript_id) for w in s.words]
            store_first_tracks(store, cands, words, media_fps(iv.media))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def run(args: argparse.Namespace) -> dict[str, object]:
    import httpx

    root = Path(tempfile.mkdtemp(prefix="cc-review-bench-"))
    clean, risky, risks = seed(root, args.candidates, args.reviewers)
    port = free_port()
    env = {**os.environ, "COUNTERCLIPS_HOME": str(root)}
    env.pop("COUNTERCLIPS_DB_URL", None)
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "flows.cli", "review", "serve", "--workspace", str(root), "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.2)

        rng = random.Random(11)
        rng.shuffle(clean)
        rng.shuffle(risky)
        per = args.rounds
        # each reviewer: its own clean candidates, and risky ones shared with its neighbour
        plans: list[list[tuple[int, list[str]]]] = []
        half, k = per // 2, per - per // 2
        for i in range(args.reviewers):
            mine = clean[i * half:(i + 1) * half]
            pair = i // 2  # reviewers 2j and 2j+1 both approve the same risky candidates
            shared = risky[pair * k:(pair + 1) * k]
            jobs = [(c, []) for c in mine] + [(c, risks[c]) for c in shared]
            rng.shuffle(jobs)
            plans.append(jobs)
        queue_ms: list[float] = []
        page_ms: list[float] = []
        comment_ms: list[float] = []
        approve_ms: list[float] = []
        confirmed: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()
        filters = [{}, {"status": "proposed"}, {"risk": "justifies_violence"}, {"theme": "coercion_fear"},
                   {"language": "ar"}, {"status": "approved"}, {"theme": "false_promises", "language": "fr"}]

        def reviewer(i: int) -> None:
            r = random.Random(i)
            with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as http:
                token = TOKEN.search(http.get("/login").text).group(1)
                resp = http.post("/login", data={"username": f"rev{i:02d}", "password": PASSWORD,
                                                 "csrf_token": token})
                if resp.status_code != 303:
                    failures.append(f"login rev{i:02d}: {resp.status_code}")
                    return
                token = TOKEN.search(http.get("/").text).group(1)
                for cid, acks in plans[i]:
                    time.sleep(r.uniform(0, 2 * args.think))
                    params = {**r.choice(filters), "page": r.randint(1, 20)}
                    t = time.perf_counter()
                    q = http.get("/", params=params)
                    dt = (time.perf_counter() - t) * 1000
                    with lock:
                        queue_ms.append(dt)
                    if q.status_code != 200:
                        failures.append(f"queue {q.status_code}")
                    time.sleep(r.uniform(0, 2 * args.think))
                    t = time.perf_counter()
                    pg = http.get(f"/candidates/{cid}")
                    dt = (time.perf_counter() - t) * 1000
                    with lock:
                        page_ms.append(dt)
                    if pg.status_code != 200:
                        failures.append(f"candidate page {cid}: {pg.status_code}")
                    t = time.perf_counter()
                    cm = http.post(f"/candidates/{cid}/comments",
                                   data={"csrf_token": token, "version": 1, "at": f"{r.uniform(0, 5):.2f}",
                                         "body": f"rev{i:02d}: check this moment"})
                    dt = (time.perf_counter() - t) * 1000
                    with lock:
                        comment_ms.append(dt)
                    if cm.status_code != 303:
                        failures.append(f"comment {cid}: {cm.status_code}")
                    time.sleep(r.uniform(0, 2 * args.think))
                    t = time.perf_counter()
                    a = http.post(f"/candidates/{cid}/decide",
                                  data={"csrf_token": token, "action": "approve", "version": 1, "ack": acks})
                    dt = (time.perf_counter() - t) * 1000
                    with lock:
                        approve_ms.append(dt)
                        if a.status_code == 303:
                            confirmed.append(cid)
                        else:
                            failures.append(f"approve {cid}: {a.status_code}")

        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        threads = [threading.Thread(target=reviewer, args=(i,)) for i in range(args.reviewers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        load_after = os.getloadavg()[0]
    finally:
        from flows.local_prefect import stop_process

        stop_process(server, 15.0)

    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace

    with Store.for_workspace(Workspace(root)) as store:
        rs = ReviewStore(store)
        import sqlalchemy as sa

        with store.read() as s:
            in_db = int(s.scalar(sa.text("SELECT count(*) FROM approvals")) or 0)
            events = int(s.scalar(sa.text("SELECT count(*) FROM review_events WHERE action='approve'")) or 0)
            both = int(s.scalar(sa.text(
                "SELECT count(*) FROM (SELECT candidate_id FROM approvals GROUP BY candidate_id "
                "HAVING count(*) >= 2) x")) or 0)
        approved_risky = sum(1 for c in set(risky) if store.get_candidate(c).status == "approved") \
            if both else 0
        del rs
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return {
        "candidates": args.candidates, "reviewers": args.reviewers, "rounds": args.rounds,
        "think": args.think,
        "queue_n": len(queue_ms), "queue_p50": pct(queue_ms, 50), "queue_p95": pct(queue_ms, 95),
        "page_n": len(page_ms), "page_p50": pct(page_ms, 50), "page_p95": pct(page_ms, 95),
        "comment_n": len(comment_ms), "comment_p50": pct(comment_ms, 50), "comment_p95": pct(comment_ms, 95),
        "approve_n": len(approve_ms), "approve_p50": pct(approve_ms, 50), "approve_p95": pct(approve_ms, 95),
        "confirmed": len(confirmed), "in_db": in_db, "events": events, "failures": failures,
        "load": (load_before, load_after), "four_eyes_pairs": both, "approved_risky": approved_risky,
        "wall": wall,
        "mean_queue": statistics.fmean(queue_ms) if queue_ms else float("nan"),
    }


def report(r: dict[str, object]) -> str:
    ok = "yes" if r["confirmed"] == r["in_db"] == r["events"] else "NO"
    think = 2 * float(r["think"])
    return "\n".join([
        f"{r['candidates']:,} candidates in SQLite (WAL), {r['reviewers']} concurrent reviewers on "
        "loopback, one `counterclips review serve` process (uvicorn, 1 worker); each reviewer "
        f"{r['rounds']} rounds of queue page (random filter, page 1-20) + approval POST, think time "
        f"uniform 0-{think:g} s between clicks. Wall time {float(r['wall']):.1f} s; machine load "
        f"average {r['load'][0]:.1f} before / {r['load'][1]:.1f} after (2 cores shared with other work).",
        "",
        "| measure | n | p50 ms | p95 ms | target |",
        "|---|---|---|---|---|",
        f"| queue page | {r['queue_n']} | {float(r['queue_p50']):.0f} | "
        f"{float(r['queue_p95']):.0f} | p95 < 300 |",
        f"| candidate page (cue track, waveform, comments) | {r['page_n']} | {float(r['page_p50']):.0f} | "
        f"{float(r['page_p95']):.0f} | p95 < 300 |",
        f"| comment at a timecode (POST) | {r['comment_n']} | {float(r['comment_p50']):.0f} | "
        f"{float(r['comment_p95']):.0f} | p95 < 300 |",
        f"| approval (POST, four-eyes rule, audit entry) | {r['approve_n']} | "
        f"{float(r['approve_p50']):.0f} | {float(r['approve_p95']):.0f} | p95 < 300 |",
        "",
        f"No approval lost: {ok} — server confirmed {r['confirmed']}, approvals in the database "
        f"{r['in_db']}, approve audit entries {r['events']}; {r['four_eyes_pairs']} risky candidates "
        f"got two approvals raced by two reviewers ({r['approved_risky']} of them ended `approved`). "
        f"Refused or failed requests: {len(r['failures'])}.",
    ])


def write_results(text: str) -> None:
    body = RESULTS.read_text(encoding="utf-8")
    if SECTION not in body:
        body = body.rstrip("\n") + "\n\n" + SECTION + "\n"
    start = body.index(SECTION) + len(SECTION)
    nxt = body.find("\n## ", start)
    end = nxt if nxt != -1 else len(body)
    RESULTS.write_text(body[:start] + "\n\n" + text.strip() + "\n" + body[end:], encoding="utf-8")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=10_000)
    p.add_argument("--reviewers", type=int, default=20)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--think", type=float, default=0.5)
    p.add_argument("--write-results", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = p.parse_args()
    result = run(args)
    text = report(result)
    print(text)
    if result["failures"]:
        print("failures:", *result["failures"][:10], sep="\n  ")
    if args.write_results:
        write_results(text)
    return 0 if result["confirmed"] == result["in_db"] else 1


if __name__ == "__main__":
    sys.exit(main())
