"""`counterclips schedule` wiring and validation, and `counterclips demo` end to end."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager

import pytest

from flows.cli import main


@pytest.fixture
def private_environ(monkeypatch):
    """Commands set Prefect's environment for their process; keep that out of other tests."""
    monkeypatch.setattr(os, "environ", os.environ.copy())
    return os.environ


def _capture_serve(monkeypatch) -> dict:
    from flows.nightly import nightly_flow

    seen: dict = {}

    def serve(**kwargs):
        seen.update(kwargs, api_url=os.environ.get("PREFECT_API_URL"))

    monkeypatch.setattr(nightly_flow, "serve", serve)
    return seen


def test_schedule_serves_nightly_at_two_local_time_through_a_given_server(workspace, monkeypatch,
                                                                          private_environ, capsys):
    private_environ["PREFECT_API_URL"] = "http://prefect.example:4200/api"
    seen = _capture_serve(monkeypatch)
    assert main(["schedule", "--workspace", str(workspace.root), "--timezone", "Europe/Berlin"]) == 0
    (schedule,) = seen["schedules"]
    assert schedule.cron == "0 2 * * *" and schedule.timezone == "Europe/Berlin"
    assert seen["parameters"] == {"workspace": str(workspace.root), "task_runner": "local",
                                  "dask_address": None}
    assert seen["limit"] == 1 and seen["api_url"] == "http://prefect.example:4200/api"
    assert "prefect.example" in capsys.readouterr().out


def test_schedule_in_local_mode_runs_its_own_server(workspace, monkeypatch, private_environ):
    from flows import local_prefect

    for key in ("PREFECT_API_URL", "PREFECT_HOME"):
        private_environ.pop(key, None)
    started: list[str] = []

    @contextmanager
    def fake_server(ws, timeout=120.0):
        started.append(str(ws.root))
        yield "http://127.0.0.1:1/api"

    monkeypatch.setattr(local_prefect, "local_server", fake_server)
    seen = _capture_serve(monkeypatch)
    assert main(["schedule", "--workspace", str(workspace.root), "--cron", "30 1 * * 1-5",
                 "--task-runner", "dask", "--dask-address", "tcp://10.0.0.5:8786"]) == 0
    assert started == [str(workspace.root)] and seen["api_url"] == "http://127.0.0.1:1/api"
    assert seen["schedules"][0].cron == "30 1 * * 1-5"
    assert seen["parameters"]["task_runner"] == "dask"
    assert seen["parameters"]["dask_address"] == "tcp://10.0.0.5:8786"


@pytest.mark.parametrize("argv, message", [
    (["--cron", "61 * * * *"], "not a valid cron expression"),
    (["--timezone", "Mars/Olympus"], "unknown time zone"),
    (["--task-runner", "dask"], "needs --dask-address"),
])
def test_schedule_refuses_bad_settings_in_one_line(workspace, private_environ, capsys, argv, message):
    private_environ["PREFECT_API_URL"] = "http://prefect.example:4200/api"
    assert main(["schedule", "--workspace", str(workspace.root), *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_only_disk_and_network_errors_are_retried():
    import sqlalchemy.exc

    from flows.nightly_worker import StepFailed, is_transient
    from pipeline.errors import MediaError

    assert is_transient(OSError(28, "No space left on device"))
    assert is_transient(sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert not is_transient(MediaError("x.mp4: not a media file"))
    assert not is_transient(StepFailed("x.mp4", "probe", "not a media file"))
    assert not is_transient(ValueError("a bug"))


def test_local_timezone_is_an_iana_name():
    from zoneinfo import ZoneInfo

    from flows.cli.nightly_cmd import local_timezone

    ZoneInfo(local_timezone())


@pytest.mark.slow
def test_demo_creates_workspace_runs_a_pass_and_prints_how_to_review(tmp_path, private_environ, capsys):
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from flows.report import load_latest

    ws_root = tmp_path / "demo"
    private_environ.pop("COUNTERCLIPS_DB_URL", None)
    with prefect_test_harness(server_startup_timeout=120):
        private_environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
        assert main(["demo", "--workspace", str(ws_root)]) == 0
    out = capsys.readouterr().out
    from clips_metadata.workspace import Workspace

    ws = Workspace(ws_root)
    report = load_latest(ws)
    # How the sample's stories group into clips moves with the flagger; that they are found does not.
    assert report["summary"]["files_processed"] == 1 and report["summary"]["candidates_proposed"] >= 2
    themes = set(report["candidates_per_theme"])
    assert {"false_promises", "hypocrisy_corruption", "witnessed_brutality", "warning_to_others"} <= themes
    assert report["risks_found"]  # the sample carries risky moments on purpose
    assert report["proxies_built"] == 1
    password_file = ws.secrets / "demo-admin.password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text(encoding="utf-8").strip()
    assert len(password) >= 12 and password not in out
    assert f"counterclips review serve --workspace {ws_root}" in out and "http://127.0.0.1:8765/" in out
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review.passwords import verify_password

    store = Store.open(ws.db_url)
    try:
        user, hashed = ReviewStore(store).credentials("demo-admin")
        assert user.role == "admin" and verify_password(hashed, password)
        (interview,) = store.list_interviews()
        assert interview.pseudonym == "Witness K"
    finally:
        store.close()
