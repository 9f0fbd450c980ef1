"""Issue 13, Must show: an export whose source file name, review notes and text all carry the
name produces no file (export folder, preview, run report) and no log or console line in which
any variant of the name occurs."""

from __future__ import annotations

import logging
import shutil
from datetime import date

import pytest

from clips_metadata.stored_records import Consent
from flows.cli import main
from pipeline.render.manifest import scan_for_terms
from pipeline.terms import variants_of
from tests.conftest import shared_media_file

pytestmark = pytest.mark.slow

TALKING_HEAD = "vid_en_talkinghead_3.mp4"
NAME = "Yusuf Darwish"
REAL = "Karim Haddad"
CONSENT = Consent(face=True, voice=False, name=False, languages=("*",), platforms=("*",),
                  expires=date(2099, 1, 1))


def test_nothing_that_leaves_carries_the_name(workspace, capsys, caplog):
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from flows.report import ExportOutcome, RunReport, write_report
    from pipeline.atomic import file_sha256
    from review.plans import Planner
    from review.previews import preview
    from review.service import ReviewService
    from tests.review.seed import add_candidate, add_interview

    caplog.set_level(logging.DEBUG)
    src = workspace.root / "footage" / "interview_Yusuf_Darwish_full.mp4"
    src.parent.mkdir(parents=True)
    shutil.copy(shared_media_file(TALKING_HEAD), src)
    store = Store.for_workspace(workspace)
    try:
        _, tid, sents = add_interview(
            store, pseudonym="Amal",
            texts=[f"My cousin {NAME} paid.", f"Then Yúsuf Dar\u00adwish left, {REAL} too."],
            labels={0: ("regret",)}, sha256=file_sha256(src), path=str(src), duration=5.0, consent=CONSENT)
        store.update_interviewee("Amal", real_names=[REAL], identifying_words=[f"{NAME}=his cousin"])
        cid = add_candidate(store, tid, sents, [0, 1], themes=("regret",))
        rs = ReviewStore(store)
        rs.add_user("rita", "reviewer", "not-a-real-hash")
        svc = ReviewService(rs, Planner.for_workspace(store, workspace))
        assert preview(store, workspace, cid) is not None
        svc.act(cid, "approve", actor="rita", role="reviewer", note=f"fine, {NAME} is hidden",
                plan_hash=svc.current_plan(cid).hash)
    finally:
        store.close()

    code = main(["export", str(cid), "--workspace", str(workspace.root), "--preset", "ultrafast",
                 "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    paths = out.split()
    srt = next(p for p in paths if p.endswith(".srt"))
    assert "his cousin" in " ".join(open(srt, encoding="utf-8").read().split())
    report = RunReport(run_id="r1", started_at="", finished_at="", workspace=str(workspace.root),
                       task_runner="local",
                       exports=(ExportOutcome(cid, "exported", paths=tuple(paths)),))
    write_report(workspace, report)

    terms = [v for t in (NAME, "Yusuf", "Darwish", REAL, "Haddad") for v in variants_of(t)]
    folders = [workspace.exports, workspace.reports, workspace.root / "previews"]
    assert all(f.is_dir() and any(f.rglob("*")) for f in folders)
    assert scan_for_terms(folders, terms) == []
    said = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert not [t for t in terms if t in said]
