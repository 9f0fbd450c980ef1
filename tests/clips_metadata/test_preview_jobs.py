"""Preview jobs: one per plan hash, also when two page views queue the same plan at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clips_metadata.plans_repo import PlansRepo
from clips_metadata.tables import PreviewJobRow
from tests.clips_metadata.test_store import _ingested

PLAN_HASH = "ab" * 32


def test_a_page_view_that_loses_the_insert_race_gets_the_other_views_job(store, monkeypatch):
    """Both views read "no job" before either commits; the second insert hits the primary key
    (a 500 on PostgreSQL under load before). It must return the job the first one queued."""
    cid = _ingested(store)[2][0].id
    repo = PlansRepo(store)
    first = repo.enqueue_preview(PLAN_HASH, cid, 1, {"candidate_id": cid})
    real_get = Session.get
    stale = []

    def get_before_the_other_commits(self, entity, ident, *args, **kwargs):  # noqa: ANN001, ANN202
        if entity is PreviewJobRow and not stale:
            stale.append(ident)
            return None
        return real_get(self, entity, ident, *args, **kwargs)

    monkeypatch.setattr(Session, "get", get_before_the_other_commits)
    second = repo.enqueue_preview(PLAN_HASH, cid, 1, {"candidate_id": cid})
    assert stale == [PLAN_HASH]
    assert second == first and second.status == "queued"
