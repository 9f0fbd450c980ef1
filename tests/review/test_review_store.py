"""Review store and service: audit log, approvals bound to versions, gate inputs, queue."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clips_metadata.errors import ConflictError, DuplicateError
from clips_metadata.review_store import QueueFilter
from review.gate import ExportRequest, GateRefused
from review.rules import AcknowledgementMissing, PermissionRefused, TransitionRefused
from review.service import ReviewService
from tests.review.conftest import race

KEY = b"s" * 32
REQ = ExportRequest(language="en", platform="web", shows_face=True, uses_real_voice=True)


def test_users_are_unique_and_admins_counted(users):
    assert users.count_admins() == 1
    with pytest.raises(DuplicateError):
        users.add_user("ada", "admin", "x")
    assert [u.name for u in users.list_users()] == ["ada", "eddie", "rita", "rolf"]


def test_approve_then_export_gate_and_audit(store, users, seeded):
    svc = ReviewService(users)
    with pytest.raises(PermissionRefused):
        svc.act(seeded.clean, "approve", actor="eddie", role="editor")
    d = svc.act(seeded.clean, "approve", actor="rita", role="reviewer", note="fine")
    assert d.to_state.value == "approved"
    auth = svc.authorise(seeded.clean, REQ, key=KEY)
    assert auth.approvers == ("rita",)
    hist = users.history(seeded.clean)
    assert [(e.actor, e.action, e.from_state, e.to_state) for e in hist] == [
        ("rita", "approve", "proposed", "approved")]
    assert users.audit_for_manifest(seeded.clean)[0]["actor"] == "rita"


def test_an_edit_makes_a_new_version_voids_the_approval_and_self_approval_is_refused(store, users, seeded):
    svc = ReviewService(users)
    svc.act(seeded.clean, "approve", actor="rita", role="reviewer")
    c = store.get_candidate(seeded.clean)
    svc.edit(seeded.clean, c.version, {"end": c.end - 0.5}, actor="rolf", role="reviewer", note="tighter")
    c2 = store.get_candidate(seeded.clean)
    assert c2.version == c.version + 1 and c2.status == "proposed"
    with pytest.raises(GateRefused, match="not approved"):
        svc.authorise(seeded.clean, REQ, key=KEY)
    with pytest.raises(PermissionRefused, match="edited"):
        svc.act(seeded.clean, "approve", actor="rolf", role="reviewer")
    svc.act(seeded.clean, "approve", actor="rita", role="reviewer")
    auth = svc.authorise(seeded.clean, REQ, key=KEY)
    assert auth.version == c2.version and auth.version_hash == c2.content_hash
    with pytest.raises(ConflictError):
        svc.edit(seeded.clean, c.version, {"end": c.end - 1}, actor="eddie", role="editor")
    kinds = [(e.action, e.from_version, e.to_version) for e in users.history(seeded.clean)]
    assert kinds == [("approve", 1, 1), ("edit", 1, 2), ("approve", 2, 2)]


def test_an_edit_and_its_audit_entry_are_one_transaction(store, users, seeded, monkeypatch):
    """If the audit entry cannot be written, the edited version is not written either."""
    import clips_metadata.review_repo as review_repo

    svc = ReviewService(users)
    before = store.get_candidate(seeded.clean)

    def broken(**_kw):
        raise RuntimeError("disk full while auditing")

    monkeypatch.setattr(review_repo, "ReviewEventRow", broken)
    with pytest.raises(RuntimeError, match="auditing"):
        svc.edit(seeded.clean, before.version, {"end": before.end - 0.5}, actor="rolf", role="reviewer")
    monkeypatch.undo()
    after = store.get_candidate(seeded.clean)
    assert (after.version, after.end, after.content_hash) == (before.version, before.end, before.content_hash)
    assert all(e.action != "edit" for e in users.history(seeded.clean))
    svc.edit(seeded.clean, before.version, {"end": before.end - 0.5}, actor="rolf", role="reviewer")
    assert [e.action for e in users.history(seeded.clean)] == ["edit"]


def test_risky_candidate_needs_two_acknowledging_reviewers(store, users, seeded):
    svc = ReviewService(users)
    risks = store.get_candidate(seeded.risky).risks
    assert set(risks) == {"justifies_violence", "credibility"}
    with pytest.raises(AcknowledgementMissing):
        svc.act(seeded.risky, "approve", actor="rita", role="reviewer", acknowledged_risks=["credibility"])
    assert svc.act(seeded.risky, "approve", actor="rita", role="reviewer",
                   acknowledged_risks=risks).to_state.value == "in_review"
    with pytest.raises(GateRefused):
        svc.authorise(seeded.risky, REQ, key=KEY)
    assert svc.act(seeded.risky, "approve", actor="ada", role="admin",
                   acknowledged_risks=risks).to_state.value == "approved"
    with pytest.raises(TransitionRefused):
        svc.act(seeded.risky, "approve", actor="rolf", role="reviewer", acknowledged_risks=risks)
    auth = svc.authorise(seeded.risky, ExportRequest(language="ar", platform="web"), key=KEY)
    assert auth.approvers == ("ada", "rita")


def test_gate_reads_consent_from_the_registry(store, users, seeded):
    from clips_metadata.stored_records import Consent

    svc = ReviewService(users)
    svc.act(seeded.clean, "approve", actor="rita", role="reviewer")
    store.update_interviewee("Samir", consent=Consent(face=False, voice=True, languages=("en",),
                                                       platforms=("web",), expires=date(2099, 1, 1)))
    with pytest.raises(GateRefused, match="face"):
        svc.authorise(seeded.clean, REQ, key=KEY)
    with pytest.raises(GateRefused, match="platform 'tiktok'"):
        svc.authorise(seeded.clean, ExportRequest(language="en", platform="tiktok"), key=KEY)


def test_audit_log_rejects_update_and_delete_in_the_database(store, users, seeded):
    ReviewService(users).act(seeded.clean, "reject", actor="rita", role="reviewer", note="off topic")
    for stmt in ("UPDATE review_events SET note = 'x'", "DELETE FROM review_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.exec_driver_sql(stmt)
    assert users.history(seeded.clean)[0].note == "off topic"


def test_concurrent_approvals_are_all_recorded(store, users, seeded):
    from review.passwords import hash_password

    h = hash_password("password-123")
    names = [f"rev{i}" for i in range(6)]
    for n in names:
        users.add_user(n, "reviewer", h)
    svc = ReviewService(users)
    risks = store.get_candidate(seeded.risky).risks
    errors = race(lambda name: svc.act(seeded.risky, "approve", actor=name, role="reviewer",
                                       acknowledged_risks=risks), names)
    # two approvals make it approved; the rest are refused as approving an approved candidate
    ok = len(names) - len(errors)
    assert ok == 2 and all(isinstance(e, TransitionRefused) for e in errors)
    assert len(users.approvals(seeded.risky)) == 2
    assert store.get_candidate(seeded.risky).status == "approved"


def test_queue_filters_sorts_and_pages_in_sql(store, users, seeded):
    page = users.queue(QueueFilter(), per_page=2)
    assert page.total == 3 and [i.id for i in page.items] == [seeded.clean, seeded.risky]
    assert page.prev_before == ""
    second = users.queue(QueueFilter(), after=page.next_after, per_page=2)
    assert [i.id for i in second.items] == [seeded.low] and second.next_after == ""
    back = users.queue(QueueFilter(), before=second.prev_before, per_page=2)
    assert [i.id for i in back.items] == [seeded.clean, seeded.risky] and back.prev_before == ""
    assert [i.id for i in users.queue(QueueFilter(risk="justifies_violence")).items] == [seeded.risky]
    assert [i.id for i in users.queue(QueueFilter(language="ar")).items] == [seeded.risky]
    assert users.queue(QueueFilter(theme="hypocrisy_corruption")).total == 1
    assert users.queue(QueueFilter(interview=seeded.interview_clean)).total == 2
    assert users.queue(QueueFilter(status="approved")).total == 0


def test_exports_are_recorded_for_a_version(store, users, seeded):
    c = store.get_candidate(seeded.clean)
    rec = users.record_export(c.id, c.version, c.content_hash, profile="vertical", language="en",
                              paths=["/x/a.mp4", "/x/a.srt"], output_sha256="ab" * 32,
                              manifest_path="/x/manifest.json", authorisation={"candidate_id": c.id},
                              created_by="nightly")
    assert users.exports(c.id) == (rec,) and rec.paths == ("/x/a.mp4", "/x/a.srt")


def test_candidate_page_reads_every_panel_in_one_transaction(store, users, seeded):
    page = users.candidate_page(seeded.risky)
    assert page.candidate == store.get_candidate(seeded.risky)
    assert page.context == users.interview_context(seeded.risky)
    assert page.state == users.review_state(seeded.risky)
    assert page.history == users.history(seeded.risky)
    assert page.versions == store.candidate_versions(seeded.risky)


def test_concurrent_approvals_of_a_plan_are_all_counted(workspace, store, users, seeded):
    """With a planner the approved plan is written in the approval's transaction, so two
    reviewers approving at once still make the candidate approved."""
    from review.passwords import hash_password
    from review.plans import Planner

    h = hash_password("password-123")
    names = [f"rev{i}" for i in range(4)]
    for n in names:
        users.add_user(n, "reviewer", h)
    svc = ReviewService(users, Planner.for_workspace(store, workspace))
    plan = svc.current_plan(seeded.risky)
    risks = store.get_candidate(seeded.risky).risks
    errors = race(lambda name: svc.act(seeded.risky, "approve", actor=name, role="reviewer",
                                       acknowledged_risks=risks, plan_hash=plan.hash), names)
    assert len(names) - len(errors) == 2 and all(isinstance(e, TransitionRefused) for e in errors)
    assert store.get_candidate(seeded.risky).status == "approved"
    assert len(svc.facts(seeded.risky).approvals) == 2
