"""Reads remembered inside `remembered_reads()` only: the same record without a second query."""

from __future__ import annotations

import sqlalchemy as sa

from clips_metadata.read_memo import remembered_reads
from tests.clips_metadata.helpers import media


def _count_queries(store):
    seen = []
    sa.event.listen(store._engine, "before_cursor_execute", lambda *a, **k: seen.append(a[2]))
    return seen


def test_repeated_reads_inside_the_block_query_once_and_outside_always(store):
    store.add_interviewee("Abu")
    iv, _ = store.register_interview(media(content="m"), "Abu", recorded="2024-05", place="Rome")
    queries = _count_queries(store)
    with remembered_reads():
        first = store.get_interview(iv.id)
        n = len(queries)
        assert store.get_interview(iv.id) is first and len(queries) == n
    store.set_interview_status(iv.id, "failed")  # a change after the block is seen at once
    assert store.get_interview(iv.id).status == "failed" and len(queries) > n
