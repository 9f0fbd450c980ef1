"""`Database.shared_reads`: a page's reads share one read transaction; a write in the same thread
ends it, so a read after the write sees the write; an error inside a read ends it too."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clips_metadata.errors import NotFoundError


def _begins(store) -> list[str]:
    seen: list[str] = []
    sa.event.listen(store.engine, "begin", lambda conn: seen.append("begin"))
    return seen


def test_reads_in_the_block_share_one_transaction(store):
    store.add_interviewee("Abu")
    begins = _begins(store)
    with store.shared_reads():
        for _ in range(5):
            assert store.get_interviewee("Abu").pseudonym == "Abu"
    assert len(begins) == 1
    store.get_interviewee("Abu")  # outside the block: one transaction per read again
    store.get_interviewee("Abu")
    assert len(begins) == 3


def test_a_read_after_a_write_sees_the_write(store):
    with store.shared_reads():
        with pytest.raises(NotFoundError):
            store.get_interviewee("Later")
        store.add_interviewee("Later")
        assert store.get_interviewee("Later").pseudonym == "Later"
        with store.transaction() as s:  # a read inside a write has its own transaction
            store.get_interviewee("Later")
            s.execute(sa.text("SELECT 1"))
        store.add_interviewee("Last")
        assert store.get_interviewee("Last").pseudonym == "Last"


def test_an_error_inside_a_read_ends_the_shared_transaction_and_the_block_goes_on(store):
    store.add_interviewee("Abu")
    with store.shared_reads():
        with pytest.raises(sa.exc.DBAPIError), store.read() as s:
            s.execute(sa.text("SELECT * FROM no_such_table"))
        assert store.get_interviewee("Abu").pseudonym == "Abu"
    with store.shared_reads(), store.shared_reads():  # nested blocks are one block
        assert store.get_interviewee("Abu").pseudonym == "Abu"
