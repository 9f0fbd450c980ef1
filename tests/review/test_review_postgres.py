"""The review store on PostgreSQL: append-only trigger, serialised concurrent approvals."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from review.rules import TransitionRefused
from review.service import ReviewService

from .conftest import make_seeded, make_users, race

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres_db_url):
    from clips_metadata.store import Store

    s = Store.open(postgres_db_url)
    yield s
    s.close()


def test_review_on_postgres(pg_store):
    from review.passwords import hash_password

    rs = make_users(pg_store)
    seeded = make_seeded(pg_store)
    h = hash_password("password-123")
    names = [f"pg{i}" for i in range(6)]
    for n in names:
        rs.add_user(n, "reviewer", h)
    svc = ReviewService(rs)
    risks = pg_store.get_candidate(seeded.risky).risks
    errors = race(lambda name: svc.act(seeded.risky, "approve", actor=name, role="reviewer",
                                       acknowledged_risks=risks), names)
    assert len(names) - len(errors) == 2 and all(isinstance(e, TransitionRefused) for e in errors)
    assert pg_store.get_candidate(seeded.risky).status == "approved"
    assert len(rs.history(seeded.risky)) == 2
    for stmt in ("UPDATE review_events SET note = 'x'", "DELETE FROM review_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), pg_store.engine.begin() as conn:
            conn.exec_driver_sql(stmt)
    page = rs.queue(per_page=10)
    assert page.total == 3
