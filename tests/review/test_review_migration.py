"""Revision 0002: the ORM models match the migration, and it downgrades and upgrades cleanly."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from tests.review.conftest import migrate


def test_models_of_0002_match_the_migration(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import clips_metadata.review_store as rs_mod

    ours = {"users", "review_events", "approvals", "exports"}
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), rs_mod.Base.metadata)
    mine = [d for d in diff if any(t in repr(d) for t in ours)]
    assert mine == []
    assert store.current_revision() == store.head_revision()


def test_0002_downgrades_and_upgrades(store):
    from alembic import command

    migrate(store, command.downgrade, "0001")
    assert "users" not in sa.inspect(store.engine).get_table_names()
    migrate(store, command.upgrade, "head")
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"users", "review_events", "approvals", "exports"} <= tables


def test_app_refuses_to_start_without_an_admin(workspace, store):
    import pytest
    from fastapi.testclient import TestClient

    from review.app import create_app
    from review.app.deps import NoAdmin

    app = create_app(workspace, require_admin=True, session_key=b"x" * 32)
    with pytest.raises(NoAdmin), TestClient(app):
        pass


def test_concurrent_key_creation_yields_one_key(workspace):
    from review.keys import load_or_create_key

    got: list[bytes] = []
    threads = [threading.Thread(target=lambda: got.append(load_or_create_key(workspace, "race")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 1 and len(got) == 8
