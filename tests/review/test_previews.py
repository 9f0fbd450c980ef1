"""Issue 13: previews of the publication plan (job table idempotent by plan hash, the app's worker,
the page's partials) and revision 0004."""

from __future__ import annotations

import shutil
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from review.app import create_app
from tests.conftest import shared_media_file
from tests.review.conftest import migrate
from tests.review.test_review_app import login

TALKING_HEAD = "vid_en_talkinghead_3.mp4"


def test_models_of_0004_match_the_migration(store):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from clips_metadata.tables import Base

    ours = {"approved_plans", "preview_jobs"}
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if any(t in repr(d) for t in ours)] == []
    assert store.current_revision() == store.head_revision()

    migrate(store, command.downgrade, "0002")
    assert "preview_jobs" not in sa.inspect(store.engine).get_table_names()
    migrate(store, command.upgrade, "head")
    assert ours <= set(sa.inspect(store.engine).get_table_names())


def test_a_preview_job_is_one_per_plan_hash(workspace, store, seeded):
    from review.previews import enqueue

    a = enqueue(store, workspace, seeded.clean)
    b = enqueue(store, workspace, seeded.clean)
    assert a.status == "queued" and a.plan_hash == b.plan_hash and len(a.plan_hash) == 64
    pseudonym = store.get_interview(store.get_candidate(seeded.clean).interview_id).pseudonym
    store.update_interviewee(pseudonym, identifying_words=["Mosul=a city"])
    assert enqueue(store, workspace, seeded.clean).plan_hash != a.plan_hash


def test_page_shows_the_preview_partial_and_each_redaction_inline(workspace, store, seeded):
    pseudonym = store.get_interview(store.get_candidate(seeded.clean).interview_id).pseudonym
    cand = store.get_candidate(seeded.clean)
    word = cand.subtitles[cand.language or "en"].split()[1].strip(".,")
    store.update_interviewee(pseudonym, identifying_words=[f"{word}=a thing"])
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as c:
        login(c, "rita")
        page = c.get(f"/candidates/{seeded.clean}").text
        assert 'id="preview"' in page and 'id="show-raw"' in page and 'name="plan_hash"' in page
        assert f"<del>{word}</del> → <ins>a thing</ins>" in page
        # The seeded source does not exist: the worker fails the job and says so, without a path.
        for _ in range(100):
            st = c.get(f"/candidates/{seeded.clean}/preview.json").json()
            if st["status"] in ("failed", "done"):
                break
            time.sleep(0.1)
        assert st["status"] == "failed" and "source of interview" in st["error"]
        assert "/footage" not in st["error"]
        assert c.get(f"/media/candidates/{seeded.clean}/preview.mp4?plan={st['plan']}").status_code == 404
    worker = getattr(app.state, "preview_worker", None)
    if worker is not None:
        worker.stop()


@pytest.mark.slow
def test_worker_renders_the_preview_named_by_its_plan_hash(workspace, store, users):
    from datetime import date

    from clips_metadata.stored_records import Consent
    from pipeline.atomic import file_sha256
    from review.previews import PreviewWorker, enqueue, preview_path
    from tests.review.seed import add_candidate, add_interview

    src = workspace.root / "interview_Yusuf_Darwish.mp4"
    shutil.copy(shared_media_file(TALKING_HEAD), src)
    # No face consent: the preview blurs faces, as the export will.
    no_face = Consent(face=False, voice=True, name=False, languages=("*",), platforms=("*",),
                      expires=date(2099, 1, 1))
    _, tid, sents = add_interview(store, pseudonym="Amal", texts=["Leaving was the hardest thing I did."],
                                  labels={0: ("regret",)}, sha256=file_sha256(src), path=str(src),
                                  duration=5.0, consent=no_face)
    cid = add_candidate(store, tid, sents, [0], themes=("regret",))
    st = enqueue(store, workspace, cid)
    assert PreviewWorker(store, workspace).run_pending() == 1
    path = preview_path(workspace, st.plan_hash)
    assert path is not None and path.name == f"{st.plan_hash}.mp4"
    assert list(workspace.faces.glob("*.json"))  # the preview's face samples: its export reuses them
    assert enqueue(store, workspace, cid).status == "done"  # asking again renders nothing
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as c:
        login(c, "rita")
        st_json = c.get(f"/candidates/{cid}/preview.json").json()
        assert st_json["status"] == "done" and st_json["url"]
        r = c.get(st_json["url"])
        assert r.status_code == 200 and r.content[4:8] == b"ftyp"


def test_a_page_view_queues_the_preview_it_reports(workspace, store, seeded, monkeypatch):
    # The page reports "queued" from its reads and writes the job after them (issue 19): the job
    # of the plan hash on the page exists once the page has been answered.
    import re

    from fastapi.testclient import TestClient

    from clips_metadata.plans_repo import PlansRepo
    from review.app import create_app
    from review.previews import PreviewWorker

    from .test_review_app import login

    monkeypatch.setattr(PreviewWorker, "wake", lambda self: None)  # keep the job queued
    with TestClient(create_app(workspace, store=store, session_key=b"p" * 32), follow_redirects=False) as c:
        login(c, "rita")
        page = c.get(f"/candidates/{seeded.clean}").text
    plan = re.search(r'data-plan="([0-9a-f]{64})"', page).group(1)
    assert "Preview queued" in page
    job = PlansRepo(store).preview_job(plan)
    assert job is not None and job.candidate_id == seeded.clean and job.status == "queued"
