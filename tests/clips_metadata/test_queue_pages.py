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


def test_a_language_filter_gives_the_same_pages_walked_or_gathered(store, monkeypatch):
    # COMMON_SHARE 0: every language is "common" (the rank index is walked, each row's interview
    # probed); 2: none is (its interviews' candidates are gathered and sorted)
    seed_bulk(store, candidates=60, per_interview=10)
    pages = {}
    for share in (0.0, 2.0):
        monkeypatch.setattr(type(store.review_queue), "COMMON_SHARE", share)
        repo = type(store.review_queue)(store)  # a fresh cache of language shares
        seen, after = [], ""
        while True:
            page = repo.queue(QueueFilter(language="ar"), after=after, per_page=4, counted=False)
            seen += [(i.id, i.language) for i in page.items]
            if not page.next_after:
                break
            after = page.next_after
        pages[share] = seen
    assert pages[0.0] == pages[2.0] and pages[0.0]
    assert {lang for _, lang in pages[0.0]} == {"ar"}
    expected = sorted((c for c in store.list_candidates(limit=1000)
                       if store.get_interview(c.interview_id).language == "ar"),
                      key=lambda c: (c.rank, c.id), reverse=True)
    assert [i for i, _ in pages[0.0]] == [c.id for c in expected]
