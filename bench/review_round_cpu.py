"""CPU cost of one reviewer round on the review app, in-process (issues 14 and 19).

A round is what `bench/review_load.py` asks per reviewer: the queue page, a candidate page, a
comment POST and an approval POST (with the plan hash the page showed). The page is also opened
again after the comment (as a browser follows the comment's redirect): "page again" is the cost
of a view whose plan is remembered; it is not counted in the round. This runs the real app
(httpx's ASGI transport, no network; the sync routes run inline in this thread) on a seeded
SQLite workspace and prints, per request, the median CPU time of the thread over `--rounds`
rounds (each on a different candidate), next to the load average. CPU time holds under a shared
machine's load where wall time does not.

    .venv/bin/python bench/review_round_cpu.py [--candidates 2000] [--rounds 30]
        [--snapshot FILE] [--profile page|queue|comment|approve|round] [--top 30]

`--snapshot` reuses (or creates) a seeded SQLite file; the rounds run on a copy of it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.review_load import PASSWORD, PLAN, TOKEN, copy_sqlite, ensure_users, plan_ids, seed  # noqa: E402

STEPS = ("queue", "page", "comment", "page again", "approve")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--snapshot", type=Path)
    p.add_argument("--profile", choices=(*STEPS, "round"), help="cProfile this step over the rounds")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--sort", default="cumulative")
    p.add_argument("--dump", type=Path, help="with --profile: also write the pstats file here")
    p.add_argument("--calls", action="store_true",
                   help="also count Python function calls per request (independent of the machine's load)")
    args = p.parse_args()

    import anyio.to_thread

    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace
    from review.app import _warm_up, create_app, settle_memory

    async def inline(func, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        return func(*a)

    # The app's sync routes run here, in this thread, so thread CPU time and cProfile see all of a
    # request (the preview worker keeps its own thread and is counted apart).
    anyio.to_thread.run_sync = inline

    tmp = Path(tempfile.mkdtemp(prefix="cc-round-cpu-"))
    snapshot = args.snapshot or tmp / "seed.sqlite3"
    if not snapshot.exists():
        seed(snapshot, args.candidates)
    ensure_users(snapshot, 1)
    clean, _, _ = plan_ids(snapshot)
    ws = Workspace(tmp / "ws").ensure()
    copy_sqlite(snapshot, ws.database)
    store = Store.for_workspace(ws)
    prof = cProfile.Profile() if args.profile else None
    times: dict[str, list[float]] = {s: [] for s in STEPS}
    calls: dict[str, list[int]] = {s: [] for s in STEPS}
    app = create_app(ws, store=store)
    _warm_up(app)
    settle_memory()  # as `review serve` does once warm
    process_cpu = [0.0]

    async def rounds() -> None:
        import httpx

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            token = TOKEN.search((await http.get("/login")).text).group(1)
            await http.post("/login", data={"username": "rev00", "password": PASSWORD, "csrf_token": token})
            token = TOKEN.search((await http.get("/")).text).group(1)
            started = time.process_time()
            for n, cid in enumerate(clean[: args.rounds + 2]):
                counted = n >= 2  # two warm-up rounds (first compiles and imports) are not counted
                if n == 2:
                    started = time.process_time()

                async def step(name: str, coro_fn, *a, counted: bool = counted, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
                    on = prof is not None and counted and args.profile in (name, "round")
                    if on:
                        prof.enable()
                    if args.calls and not on:
                        counter = cProfile.Profile()
                        counter.enable()
                        resp = await coro_fn(*a, **kw)
                        counter.disable()
                        if counted:
                            calls[name].append(pstats.Stats(counter).total_calls)  # type: ignore[attr-defined]
                        return resp
                    t = time.thread_time()
                    resp = await coro_fn(*a, **kw)
                    ms = (time.thread_time() - t) * 1000
                    if on:
                        prof.disable()
                    if counted:
                        times[name].append(ms)
                    return resp

                q = await step("queue", http.get, "/", params={"status": "proposed"} if n % 2 else {})
                assert q.status_code == 200, q.status_code
                pg = await step("page", http.get, f"/candidates/{cid}")
                assert pg.status_code == 200, pg.status_code
                c = await step("comment", http.post, f"/candidates/{cid}/comments",
                               data={"csrf_token": token, "version": 1, "at": "1.5",
                                     "body": "check this moment"})
                assert c.status_code == 303, c.status_code
                # the comment's redirect back to the page (a reviewer sees their comment)
                again = await step("page again", http.get, f"/candidates/{cid}")
                assert again.status_code == 200, again.status_code
                plan = PLAN.search(pg.text)
                a = await step("approve", http.post, f"/candidates/{cid}/decide",
                               data={"csrf_token": token, "action": "approve", "version": 1,
                                     "plan_hash": plan.group(1) if plan else "", "then": "next"})
                loc = a.headers.get("location", "")
                assert a.status_code == 303 and not loc.rstrip("/").endswith(f"/candidates/{cid}"), \
                    (a.status_code, loc)
            process_cpu[0] = (time.process_time() - started) * 1000

    try:
        asyncio.run(rounds())
    finally:
        worker = getattr(app.state, "preview_worker", None)
        if worker is not None:
            worker.stop()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    total = 0.0
    size = "snapshot's" if args.snapshot else f"{args.candidates}"
    if args.calls:
        print(f"Python function calls per request, median of {args.rounds} rounds ({size} candidates):",
              ", ".join(f"{s} {statistics.median(calls[s]):.0f}" for s in STEPS))
        return 0
    print(f"CPU ms per request, median of {args.rounds} rounds ({size} candidates); "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for s in STEPS:
        med = statistics.median(times[s])
        total += med if s != "page again" else 0.0
        print(f"  {s:10s} median {med:6.1f}  min {min(times[s]):6.1f}  max {max(times[s]):6.1f}")
    print(f"  round      {total:6.1f}   (page again not counted; the whole process, page again, preview "
          f"worker and client included: {process_cpu[0] / args.rounds:.1f} a round)")
    if prof is not None:
        stats = pstats.Stats(prof)
        if args.dump:
            stats.dump_stats(args.dump)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
