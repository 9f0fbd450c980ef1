"""A write transaction inside another in the same thread is refused at once (on SQLite it would
wait out the busy timeout for its own lock, stalling every other writer)."""

from __future__ import annotations

import threading

import pytest


def test_a_nested_write_fails_at_once_and_the_outer_one_still_commits(store):
    with store.transaction() as _outer:
        with pytest.raises(RuntimeError, match="inside another"), store.transaction():
            pass
        with store.read():  # reading inside a write is fine
            pass
    store.add_interviewee("Abu")  # the depth is back to zero after both blocks
    assert store.get_interviewee("Abu").pseudonym == "Abu"


def test_another_thread_may_write_while_this_one_reads(store):
    errors: list[BaseException] = []

    def other() -> None:
        try:
            store.add_interviewee("Other")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with store.read():
        t = threading.Thread(target=other)
        t.start()
        t.join(30)
    assert not errors and store.get_interviewee("Other").pseudonym == "Other"


def test_writers_of_one_process_take_turns_and_a_long_wait_is_a_busy_error(tmp_path):
    import sqlalchemy as sa

    from clips_metadata.engine import StoreOptions
    from clips_metadata.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'w.sqlite3'}", StoreOptions(busy_timeout_ms=300))
    try:
        results: list[str] = []

        def writer(name: str) -> None:
            try:
                store.add_interviewee(name)
                results.append(name)
            except sa.exc.TimeoutError as exc:  # the review app answers this with a 503 page
                results.append(f"busy: {exc}")

        with store.transaction():  # held until the second writer has given up
            t = threading.Thread(target=writer, args=("Second",))
            t.start()
            t.join(30)
        assert not t.is_alive()
        assert results and results[0].startswith("busy:") and "nothing was saved" in results[0]
        writer("Third")  # the turn is free again once the first write is done
        assert results[-1] == "Third"
    finally:
        store.close()


def test_a_writer_of_another_process_waits_for_the_lock_and_then_writes(tmp_path):
    """Two stores on one file stand for two processes (each has its own writers' queue): the
    second asks for the lock again until the first commits, then writes."""
    import sqlalchemy as sa

    from clips_metadata.store import Store

    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    first, second = Store.open(url), Store.open(url)
    try:
        done = threading.Event()
        errors: list[BaseException] = []

        def write() -> None:
            try:
                second.add_interviewee("Second")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            done.set()

        with first.transaction() as session:
            session.execute(sa.text("SELECT 1"))  # the write lock is taken at the first statement
            t = threading.Thread(target=write)
            t.start()
            assert not done.wait(0.3)  # still waiting while the first holds the lock
        t.join(30)
        assert not errors and second.get_interviewee("Second").pseudonym == "Second"
        second.add_interviewee("Third")  # and the connection's busy timeout is restored
    finally:
        first.close()
        second.close()


def test_a_writer_of_another_process_gives_up_after_the_busy_timeout(tmp_path):
    import sqlalchemy as sa

    from clips_metadata.engine import StoreOptions
    from clips_metadata.errors import NotFoundError
    from clips_metadata.store import Store

    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    first, second = Store.open(url), Store.open(url, StoreOptions(busy_timeout_ms=200))
    try:
        with first.transaction() as session, pytest.raises(sa.exc.OperationalError, match="locked"):
            session.execute(sa.text("SELECT 1"))  # the write lock is taken at the first statement
            second.add_interviewee("Second")  # the review app answers this with a 503 page
        with pytest.raises(NotFoundError):  # nothing was saved
            second.get_interviewee("Second")
        second.add_interviewee("Second")
        assert second.get_interviewee("Second").pseudonym == "Second"
    finally:
        first.close()
        second.close()
