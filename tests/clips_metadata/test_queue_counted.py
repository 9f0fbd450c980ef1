"""A queue page asked for without a count ("approve and next" finds its neighbour that way) holds
the same rows and cursors, and reads no count: a person's "waiting for me" count scans every
candidate."""

from __future__ import annotations

import sqlalchemy as sa

from clips_metadata.review_records import QueueFilter
from tests.review.seed import seed_bulk


def test_uncounted_page_has_the_same_rows_and_runs_no_count(store):
    seed_bulk(store, candidates=30, per_interview=10)
    flt = QueueFilter(waiting_for="rita")
    counted = store.review_queue.queue(flt, per_page=7)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *a: statements.append(statement))
    plain = store.review_queue.queue(QueueFilter(waiting_for="sam"), per_page=7, counted=False)
    assert plain.total is None and counted.total == 30
    assert [i.id for i in plain.items] == [i.id for i in counted.items]
    assert (plain.next_after, plain.prev_before) == (counted.next_after, counted.prev_before)
    assert not [s for s in statements if "count(" in s.lower()]
