"""A queue page asked for without a count ("approve and next" finds its neighbour that way) holds
the same rows and cursors, and reads no count: a person's "waiting for me" count scans every
candidate."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize("flt", [QueueFilter(language="ar"), QueueFilter(risk="pro_group_advocacy"),
                                 QueueFilter(theme="coercion_fear", language="fr")])
def test_a_filter_gives_the_same_pages_walked_or_gathered(store, monkeypatch, flt):
    # COMMON_SHARE 0: every value is "common" (the rank index is walked, each row probed); 2: none
    # is (the matching candidates are gathered and sorted)
    seed_bulk(store, candidates=60, per_interview=10)
    pages = {}
    for share in (0.0, 2.0):
        monkeypatch.setattr(type(store.review_queue), "COMMON_SHARE", share)
        repo = type(store.review_queue)(store)  # a fresh cache of shares
        seen, after = [], ""
        while True:
            page = repo.queue(flt, after=after, per_page=4, counted=False)
            seen += [i.id for i in page.items]
            if not page.next_after:
                break
            after = page.next_after
        pages[share] = seen
    def matches(c) -> bool:  # noqa: ANN001 - a stored Candidate
        return ((not flt.language or store.get_interview(c.interview_id).language == flt.language)
                and (not flt.risk or flt.risk in c.risks) and (not flt.theme or flt.theme in c.themes))

    expected = sorted(filter(matches, store.list_candidates(limit=1000)), key=lambda c: (c.rank, c.id),
                      reverse=True)
    assert expected and pages[0.0] == pages[2.0] == [c.id for c in expected]


@pytest.mark.parametrize("flt", [QueueFilter(waiting_for="rita"), QueueFilter(), QueueFilter(language="fr")])
def test_queue_ids_are_the_first_page_in_order_without_a_count(store, flt):
    # "approve and next" reads only the ids of the reviewer's first page
    seed_bulk(store, candidates=30, per_interview=10)
    first = tuple(i.id for i in store.review_queue.queue(flt, per_page=7).items)
    every = tuple(i.id for i in store.review_queue.queue(flt, per_page=200).items)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *a: statements.append(statement))
    assert len(first) == 7 and len(every) > 7
    assert store.review_queue.queue_ids(flt, per_page=7) == first
    assert store.review_queue.queue_ids(flt, per_page=200) == every
    assert not [s for s in statements if "count(" in s.lower()]
