"""The queue's counts are served while one background thread counts again (issue 19), and a
count never lags more than the cache's ttl: an expired one is counted in the request."""

from __future__ import annotations

import threading

from clips_metadata import queue_repo
from clips_metadata.queue_repo import _TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_fresh_value_is_served_and_an_old_one_renewed_in_the_background(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(queue_repo.time, "monotonic", clock)
    started: list[threading.Thread] = []
    real_thread = threading.Thread

    def thread(*a, **kw):  # noqa: ANN002, ANN003, ANN202 - records the refresh threads to join them
        t = real_thread(*a, **kw)
        started.append(t)
        return t

    monkeypatch.setattr(queue_repo.threading, "Thread", thread)
    cache, loads = _TtlCache(5.0, refresh_after=2.5), []
    gate = threading.Event()

    def load() -> int:
        loads.append(clock.now)
        if len(loads) == 2:
            gate.wait(5)  # the background count is still running while requests are served
        return len(loads)

    assert cache.get("k", load) == 1  # nothing cached: counted in the request
    clock.now += 1.0
    assert cache.get("k", load) == 1 and not started  # fresh: no count at all
    clock.now += 2.0  # 3 s old: served, and one background count starts
    assert cache.get("k", load) == 1 and len(started) == 1
    assert cache.get("k", load) == 1 and len(started) == 1  # only one count at a time
    gate.set()
    started[0].join(5)
    assert cache.get("k", load) == 2 and loads == [100.0, 103.0]


def test_an_expired_value_is_counted_in_the_request(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(queue_repo.time, "monotonic", clock)
    cache, n = _TtlCache(5.0, refresh_after=2.5), iter(range(1, 10))
    assert cache.get("k", lambda: next(n)) == 1
    clock.now += 5.0  # as old as the ttl: never served
    assert cache.get("k", lambda: next(n)) == 2


def test_a_failed_background_count_leaves_the_value_to_expire(monkeypatch, caplog):
    clock = Clock()
    monkeypatch.setattr(queue_repo.time, "monotonic", clock)
    cache = _TtlCache(5.0, refresh_after=2.5)
    assert cache.get("k", lambda: 7) == 7
    clock.now += 3.0

    def broken() -> int:
        raise RuntimeError("search for Witness Kareem: database went away")

    assert cache.get("k", broken) == 7
    for t in threading.enumerate():
        if t.name == "queue-count":
            t.join(5)
    clock.now += 2.0
    assert cache.get("k", lambda: 8) == 8  # expired: counted in the request
    # operators see the failure, by its type only (a search text could be a protected name)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warned == ["background refresh of a queue count failed (RuntimeError)"]
    assert "Kareem" not in caplog.text
