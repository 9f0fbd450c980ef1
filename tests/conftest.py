"""Fixtures every test package shares: where the real media is, and a fresh workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_pg"]

REPO = Path(__file__).resolve().parent.parent
# COUNTERCLIPS_SHARED_MEDIA points elsewhere when the worktree is not beside shared/.
SHARED_MEDIA = Path(os.environ.get("COUNTERCLIPS_SHARED_MEDIA") or REPO.parent / "shared" / "media")
TEST_DATA = Path(__file__).resolve().parent / "data"
ARTIFACTS = REPO / "test-artifacts"


def shared_media_file(name: str) -> Path:
    """A file from ../shared/media; the test is skipped cleanly where it is absent."""
    path = SHARED_MEDIA / name
    if not path.is_file():
        pytest.skip(f"{name} not available in {SHARED_MEDIA}")
    return path


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    from clips_metadata.workspace import Workspace

    monkeypatch.setenv("COUNTERCLIPS_HOME", str(tmp_path / "ws"))
    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    return Workspace(tmp_path / "ws").ensure()


@pytest.fixture
def store(workspace):
    """The workspace's store, migrated (tests/clips_metadata has its own, on every database)."""
    from clips_metadata.store import Store

    s = Store.for_workspace(workspace)
    yield s
    s.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
