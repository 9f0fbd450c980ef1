"""Issue 13: what reviewers approve is the publication plan; any later change to it (interviewee,
consent, registry words, text) refuses the export, names the reason and sends the candidate back
to review. These refusals come before any render, so the seeded source need not exist."""

from __future__ import annotations

import time
from datetime import date

import pytest

from clips_metadata.stored_records import Consent
from flows.cli import main

TEXTS = ["Leaving was the hardest thing I ever did.", "My cousin paid a smuggler to take me across."]
PASSWORD = "correct horse battery"  # CLI decisions need the acting reviewer's password
CONSENT = Consent(face=True, voice=True, name=False, languages=("*",), platforms=("*",),
                  expires=date(2099, 1, 1))


def _store(workspace):
    from clips_metadata.store import Store

    return Store.for_workspace(workspace)


@pytest.fixture
def approved(workspace):
    """Candidate approved by two reviewers on its plan; returns (candidate id, interview id)."""
    from clips_metadata.review_store import ReviewStore
    from review.plans import Planner
    from review.service import ReviewService
    from tests.review.seed import add_candidate, add_interview

    store = _store(workspace)
    try:
        iid, tid, sents = add_interview(store, pseudonym="Amal", texts=TEXTS, labels={0: ("regret",)},
                                        consent=CONSENT)
        store.update_interviewee("Amal", identifying_words=["Mosul=a city"])
        store.add_interviewee("Basma", consent=CONSENT)
        cid = add_candidate(store, tid, sents, [0, 1], themes=("regret",), risks=("names_person",))
        from review.passwords import hash_password

        rs = ReviewStore(store)
        hashed = hash_password(PASSWORD)
        for name in ("rita", "sam"):
            rs.add_user(name, "reviewer", hashed)
        svc = ReviewService(rs, Planner.for_workspace(store, workspace))
        plan = svc.current_plan(cid)
        assert plan is not None and plan.plan is not None, plan
        for name in ("rita", "sam"):
            svc.act(cid, "approve", actor=name, role="reviewer", acknowledged_risks=("names_person",),
                    plan_hash=plan.hash)
        assert store.get_candidate(cid).status == "approved"
        return cid, iid
    finally:
        store.close()


def _export(workspace, cid, capsys) -> str:
    code = main(["export", str(cid), "--workspace", str(workspace.root), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1
    return err


def _back_in_review(workspace, cid, reason: str, status: str = "in_review") -> None:
    from clips_metadata.review_store import ReviewStore

    store = _store(workspace)
    try:
        assert store.get_candidate(cid).status == status
        last = ReviewStore(store).history(cid)[-1]
        assert last.action == "plan_changed" and reason in last.note
        assert "Mosul" not in last.note and "Real Name" not in last.note
    finally:
        store.close()


def test_assigning_another_interviewee_refuses_the_export(workspace, approved, capsys):
    cid, iid = approved
    assert main(["interviewee", "assign", str(iid), "Basma", "--workspace", str(workspace.root)]) == 0
    err = _export(workspace, cid, capsys)
    assert "assigned to another interviewee" in err and "sent back to review" in err
    _back_in_review(workspace, cid, "assigned to another interviewee")
    # The old approvals no longer count: the gate refuses even after the refusal was recorded.
    err = _export(workspace, cid, capsys)
    assert "not approved" in err or "approv" in err


@pytest.mark.parametrize("argv", [
    ["--identifying-word", "Raqqa"],
    ["--remove-identifying-word", "mosul"],
    ["--identifying-word", "Mosul=the town"],
], ids=["add", "remove", "new-replacement"])
def test_changing_the_registry_words_refuses_the_export(workspace, approved, capsys, argv):
    cid, _ = approved
    assert main(["interviewee", "set", "Amal", *argv, "--workspace", str(workspace.root)]) == 0
    err = _export(workspace, cid, capsys)
    assert "the registry's words to hide changed" in err
    assert "Raqqa" not in err and "Mosul" not in err
    _back_in_review(workspace, cid, "words to hide changed")


def test_changing_the_consent_refuses_the_export(workspace, approved, capsys):
    cid, _ = approved
    root = str(workspace.root)
    assert main(["interviewee", "set", "Amal", "--consent-voice", "no", "--workspace", root]) == 0
    err = _export(workspace, cid, capsys)
    assert "consent changed" in err
    # Narrowing consent already voided the approval (issue 18: changes requested); the refusal
    # is recorded there too.
    _back_in_review(workspace, cid, "consent changed", status="changes_requested")


def test_widening_the_consent_refuses_the_export_too(workspace, approved, capsys):
    cid, _ = approved
    root = str(workspace.root)
    assert main(["interviewee", "set", "Amal", "--consent-name", "yes", "--workspace", root]) == 0
    err = _export(workspace, cid, capsys)
    assert "consent changed" in err
    _back_in_review(workspace, cid, "consent changed")


def test_editing_the_text_refuses_the_export(workspace, approved, capsys):
    from clips_metadata.review_store import ReviewStore
    from review.service import ReviewService

    cid, _ = approved
    store = _store(workspace)
    try:
        rs = ReviewStore(store)
        rs.add_user("ed", "editor", "not-a-real-hash")
        c = store.get_candidate(cid)
        ReviewService(rs).edit(cid, c.version, {"subtitles": {"en": "Leaving was hard."}},
                               actor="ed", role="editor")
    finally:
        store.close()
    err = _export(workspace, cid, capsys)
    # Subtitles publish from the version's stored cue tracks: the edit shows as a new version.
    assert "the subtitle text changed" in err or "was edited" in err, err
    _back_in_review(workspace, cid, "edited", status="proposed")


def test_reupload_with_another_sidecar_never_moves_an_approved_interview(workspace, approved, capsys, caplog):
    """A sidecar naming someone else does not reassign footage already filed under a person
    (`flows.nightly_worker._assign_from_sidecar`); only `interviewee assign` does, and that refuses
    the export (above). So the approved plan still holds and the export goes on to the gate."""
    from flows.inbox import Sidecar
    from flows.nightly_worker import FileJob, _assign_from_sidecar

    cid, iid = approved
    store = _store(workspace)
    try:
        iv = store.get_interview(iid)
        job = FileJob(workspace=str(workspace.root), db_url=workspace.db_url, path=iv.source_path,
                      sha256=iv.sha256, size=1000, sidecar=Sidecar(interviewee="Basma"))
        with caplog.at_level("WARNING", logger="flows.nightly_worker"):
            _assign_from_sidecar(store, iv, job)
        assert store.get_interview(iid).pseudonym == "Amal"
        warned = " ".join(r.getMessage() for r in caplog.records)
        assert "sidecar is ignored" in warned and "Basma" not in warned and "Amal" not in warned
    finally:
        store.close()
    err = _export(workspace, cid, capsys)
    assert "source of interview" in err  # past the plan check: the seeded source file is absent


def test_approval_of_a_stale_plan_is_refused(workspace, approved, capsys, tmp_path):
    cid, _ = approved
    root = str(workspace.root)
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSWORD + "\n")
    assert main(["interviewee", "set", "Amal", "--identifying-word", "Raqqa", "--workspace", root]) == 0
    _export(workspace, cid, capsys)  # sends it back to review
    code = main(["review", "approve", str(cid), "--as", "rita", "--ack-risk", "names_person",
                 "--plan", "0" * 64, "--password-file", str(pw), "--workspace", str(workspace.root)])
    err = capsys.readouterr().err
    assert code == 1 and "stale" in err
    assert main(["review", "plan", str(cid), "--workspace", str(workspace.root)]) == 0
    current = capsys.readouterr().out.strip()
    for name in ("rita", "sam"):
        assert main(["review", "approve", str(cid), "--as", name, "--ack-risk", "names_person",
                     "--plan", current, "--password-file", str(pw), "--workspace", str(workspace.root)]) == 0
    capsys.readouterr()
    err = _export(workspace, cid, capsys)
    assert "source of interview" in err  # the re-approved plan holds; only the seeded file is absent


def test_interviewee_show_lists_words_and_set_adds_and_removes(workspace, capsys):
    root = str(workspace.root)
    assert main(["interviewee", "add", "Karim", "--identifying-word", "Yusuf Darwish=his cousin",
                 "--workspace", root]) == 0
    assert main(["interviewee", "set", "Karim", "--identifying-word", "Mosul", "--workspace", root]) == 0
    capsys.readouterr()
    assert main(["interviewee", "show", "Karim", "--workspace", root]) == 0
    out = capsys.readouterr().out
    assert "Yusuf Darwish=his cousin" in out and "Mosul" in out
    assert main(["interviewee", "set", "Karim", "--remove-identifying-word", "yúsuf darwish",
                 "--workspace", root]) == 0
    capsys.readouterr()
    main(["interviewee", "show", "Karim", "--workspace", root])
    out = capsys.readouterr().out
    assert "Darwish" not in out and "Mosul" in out
    assert main(["interviewee", "set", "Karim", "--remove-identifying-word", "Nowhere",
                 "--workspace", root]) == 1
    assert "not in the registry entry" in capsys.readouterr().err


def test_web_export_after_a_registry_change_is_refused_with_the_reason(workspace, approved):
    from fastapi.testclient import TestClient

    from clips_metadata.review_store import ReviewStore
    from flows.services.exporting import export_candidate
    from review.app import create_app
    from review.passwords import hash_password
    from tests.review.test_review_app import TOKEN

    cid, iid = approved
    store = _store(workspace)
    try:
        ReviewStore(store).add_user("ada", "admin", hash_password("correct horse battery"))
        store.update_interviewee("Amal", identifying_words=["Mosul=a city", "Raqqa"])
        app = create_app(workspace, store=store, session_key=b"t" * 32, export_candidate=export_candidate)
        with TestClient(app, follow_redirects=False) as c:
            token = TOKEN.search(c.get("/login").text).group(1)
            c.post("/login", data={"username": "ada", "password": "correct horse battery",
                                   "csrf_token": token, "next": "/"})
            token = TOKEN.search(c.get(f"/candidates/{cid}").text).group(1)
            r = c.post(f"/candidates/{cid}/export", data={"csrf_token": token, "profile": "master"})
            assert r.status_code == 303
            page = c.get(r.headers["location"]).text
            # The export runs as a background job: its refusal (shown with the job) and its audit
            # entry appear when the job ends (bounded wait, not a timing assertion).
            for _ in range(100):
                if "export refused" in page and "words to hide changed" in page:
                    break
                time.sleep(0.1)
                page = c.get(f"/candidates/{cid}").text
            assert "the registry&#39;s words to hide changed" in page or "words to hide changed" in page
            assert "export refused" in page  # in the audit history
        assert store.get_candidate(cid).status == "in_review"
        worker = getattr(app.state, "preview_worker", None)
        if worker is not None:
            worker.stop()
    finally:
        store.close()


def test_unassigned_footage_cannot_be_approved_so_a_later_sidecar_cannot_slip_through(workspace, capsys):
    """The other half of the re-upload case: a sidecar assigns only footage filed "unassigned"
    (`_assign_from_sidecar`), and unassigned footage has no plan, so nobody can approve it before
    it belongs to someone; once assigned, reviewers approve that person's plan."""
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.stored_records import UNASSIGNED
    from tests.review.seed import add_candidate, add_interview

    store = _store(workspace)
    try:
        store.unassigned_interviewee()
        _, tid, sents = add_interview(store, pseudonym=UNASSIGNED, texts=TEXTS, labels={0: ("regret",)})
        cid = add_candidate(store, tid, sents, [0], themes=("regret",))
        from review.passwords import hash_password

        ReviewStore(store).add_user("rita", "reviewer", hash_password(PASSWORD))
    finally:
        store.close()
    root = str(workspace.root)
    pw = workspace.root / "pw.txt"
    pw.write_text(PASSWORD + "\n")
    code = main(["review", "approve", str(cid), "--as", "rita", "--version", "1", "--password-file", str(pw),
                 "--workspace", root])
    err = capsys.readouterr().err
    assert code == 1 and "no publication plan" in err and "not assigned" in err
