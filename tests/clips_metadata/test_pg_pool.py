"""PostgreSQL's pool keeps its connections and tests one only after it rested (issue 19): a
connection the server ended while it rested is replaced, and the read that follows works."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.postgres


def test_a_rested_connection_the_server_ended_is_replaced(postgres_db_url, monkeypatch):
    import sqlalchemy as sa

    from clips_metadata import engine as engine_mod
    from clips_metadata.store import Store

    store = Store.open(postgres_db_url)
    try:
        store.add_interviewee("Abu")
        with store.read() as session:
            pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        killer = sa.create_engine(postgres_db_url, isolation_level="AUTOCOMMIT")
        with killer.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        killer.dispose()
        monkeypatch.setattr(engine_mod, "PING_AFTER_IDLE", 0.0)  # it has rested long enough
        assert store.get_interviewee("Abu").pseudonym == "Abu"
        with store.read() as session:
            assert session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        store.close()


def test_a_busy_pool_keeps_its_connections(postgres_db_url):
    """12 threads reading at once, twice: the second time they get the first time's connections
    (a pool of 5 closed the other 7 on return, and opened 7 new server backends)."""
    import threading

    import sqlalchemy as sa

    from clips_metadata.store import Store

    store = Store.open(postgres_db_url)
    try:
        def round_of_reads() -> set[int]:
            together = threading.Barrier(12)
            pids: set[int] = set()

            def read() -> None:
                with store.read() as session:
                    pids.add(session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                    together.wait(30)  # every thread holds its connection at the same moment

            threads = [threading.Thread(target=read) for _ in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            return pids

        first = round_of_reads()
        assert len(first) == 12
        assert round_of_reads() == first
    finally:
        store.close()
