"""The three adapters call the same `export_candidate`: one approved clip exported from the CLI,
from the review app's export route and from the nightly flow's export task gives the same
manifest, byte for byte once the times (and what is signed with them) are set aside."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clips_metadata.stored_records import Consent
from tests.conftest import shared_media_file
from tests.review.conftest import PASSWORD

pytestmark = pytest.mark.slow

TALKING_HEAD = "vid_en_talkinghead_3.mp4"
TEXT = "Leaving was the hardest thing I ever did."
CONSENT = Consent(face=True, voice=False, name=False, languages=("*",), platforms=("*",),
                  expires=date(2099, 1, 1))
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# Keys whose values are times, or signatures and ids made from a time.
TIMED = {"created_at", "issued_at", "expires_at", "at", "signature", "nonce", "token", "id", "created_by"}


def _seed(store: Any, workspace: Any) -> int:
    from clips_metadata.review_store import ReviewStore
    from pipeline.atomic import file_sha256
    from review.passwords import hash_password
    from review.plans import Planner
    from review.service import ReviewService
    from tests.review.seed import add_candidate, add_interview

    src = shared_media_file(TALKING_HEAD)
    _, tid, sents = add_interview(store, pseudonym="Amal", texts=[TEXT],
                                  labels={0: ("disillusionment_exit",)}, sha256=file_sha256(src),
                                  path=str(src), duration=5.0, consent=CONSENT)
    cid = add_candidate(store, tid, sents, [0], themes=("disillusionment_exit",))
    rs = ReviewStore(store)
    rs.add_user("rita", "reviewer", hash_password(PASSWORD))
    ReviewService(rs, Planner.for_workspace(store, workspace)).act(cid, "approve", actor="rita",
                                                                   role="reviewer")
    return cid


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in TIMED}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _latest_manifest(store: Any, cid: int) -> bytes:
    from clips_metadata.review_store import ReviewStore

    record = ReviewStore(store).exports(cid)[-1]
    text = Path(record.manifest_path).read_text(encoding="utf-8")
    return json.dumps(_untimed(json.loads(text)), sort_keys=True).encode()


def test_cli_web_and_nightly_exports_give_the_same_manifest(workspace):
    from fastapi.testclient import TestClient

    from clips_metadata.store import Store
    from flows.cli import main
    from flows.nightly import export_task
    from flows.nightly_worker import RESOURCES
    from flows.services.exporting import export_candidate
    from review.app import create_app

    store = Store.for_workspace(workspace)
    try:
        cid = _seed(store, workspace)
        manifests: dict[str, bytes] = {}

        assert main(["export", str(cid), "--workspace", str(workspace.root), "--no-progress"]) == 0
        manifests["cli"] = _latest_manifest(store, cid)

        app = create_app(workspace, store=store, session_key=b"t" * 32, export_candidate=export_candidate)
        with TestClient(app, follow_redirects=False) as client:
            token = TOKEN.search(client.get("/login").text).group(1)
            r = client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf_token": token,
                                            "next": "/"})
            assert r.status_code == 303, r.text
            token = TOKEN.search(client.get("/").text).group(1)
            r = client.post(f"/candidates/{cid}/export", data={"csrf_token": token, "profile": "master"})
            assert r.status_code == 303 and r.headers["location"].startswith(f"/candidates/{cid}")
            # the page's export runs as a background job: wait for it to finish
            import time

            deadline = time.monotonic() + 300
            while any(j.state == "running" for j in app.state.export_jobs.values()):
                assert time.monotonic() < deadline, "the export job did not finish"
                time.sleep(0.2)
            assert [j.state for j in app.state.export_jobs.values()] == ["done"], \
                [j.error for j in app.state.export_jobs.values()]
        manifests["web"] = _latest_manifest(store, cid)

        outcome = export_task.fn(str(workspace.root), workspace.db_url, cid, ("master",))
        assert outcome.status == "exported", outcome.reason
        manifests["nightly"] = _latest_manifest(store, cid)
    finally:
        RESOURCES.close()
        store.close()

    assert manifests["cli"] == manifests["web"] == manifests["nightly"]
    assert b"Real Name" not in manifests["cli"]
