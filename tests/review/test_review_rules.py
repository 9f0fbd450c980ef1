"""The review state machine, every state x action x role, and four eyes on risk."""

from __future__ import annotations

import itertools

import pytest

from review.rules import (
    PERMITTED_ROLES,
    TRANSITIONS,
    AcknowledgementMissing,
    Action,
    ApprovalFact,
    PermissionRefused,
    ReviewError,
    ReviewFacts,
    Role,
    State,
    TransitionRefused,
    allowed_actions,
    decide,
    is_fully_approved,
)

# The whole table, written out independently of review.rules so a change there must be deliberate.
EXPECTED = {
    (State.PROPOSED, Action.START_REVIEW): State.IN_REVIEW,
    (State.PROPOSED, Action.APPROVE): State.APPROVED,
    (State.PROPOSED, Action.REJECT): State.REJECTED,
    (State.PROPOSED, Action.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.PROPOSED, Action.EDIT): State.PROPOSED,
    (State.IN_REVIEW, Action.APPROVE): State.APPROVED,
    (State.IN_REVIEW, Action.REJECT): State.REJECTED,
    (State.IN_REVIEW, Action.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.IN_REVIEW, Action.EDIT): State.PROPOSED,
    (State.APPROVED, Action.REJECT): State.REJECTED,
    (State.APPROVED, Action.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.APPROVED, Action.EDIT): State.PROPOSED,
    (State.CHANGES_REQUESTED, Action.EDIT): State.PROPOSED,
    (State.CHANGES_REQUESTED, Action.START_REVIEW): State.IN_REVIEW,
    (State.CHANGES_REQUESTED, Action.REJECT): State.REJECTED,
    (State.REJECTED, Action.REOPEN): State.PROPOSED,
}


def facts(state: State, risks: tuple[str, ...] = (), **kw) -> ReviewFacts:
    return ReviewFacts(state=state, version=3, version_hash="h3", risks=risks, **kw)


@pytest.mark.parametrize("state,action", list(itertools.product(State, Action)))
def test_every_state_and_action_follows_the_table(state, action):
    role = Role.ADMIN  # admins may attempt everything; roles are tested below
    f = facts(state)
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionRefused):
            decide(f, action, actor="ann", role=role, note="why")
        assert action not in allowed_actions(f, role)
    else:
        d = decide(f, action, actor="ann", role=role, note="why")
        assert d.to_state == expected and d.from_state == state
        assert d.records_approval == (action is Action.APPROVE)
        assert action in allowed_actions(f, role)


def test_table_in_module_matches_the_expected_table():
    flat = {(s, a): t for s, row in TRANSITIONS.items() for a, t in row.items()}
    assert flat == EXPECTED


@pytest.mark.parametrize("role,action", list(itertools.product(Role, Action)))
def test_roles_are_enforced_for_every_action(role, action):
    state = next((s for (s, a) in EXPECTED if a is action), State.PROPOSED)
    f = facts(state)
    if role in PERMITTED_ROLES[action]:
        decide(f, action, actor="ann", role=role, note="why")
    else:
        with pytest.raises(PermissionRefused):
            decide(f, action, actor="ann", role=role, note="why")


def test_editor_cannot_approve_or_reject():
    for action in (Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES):
        with pytest.raises(PermissionRefused):
            decide(facts(State.IN_REVIEW), action, actor="ed", role="editor", note="x")


def test_reject_and_request_changes_need_a_note():
    for action in (Action.REJECT, Action.REQUEST_CHANGES):
        with pytest.raises(ReviewError, match="note"):
            decide(facts(State.IN_REVIEW), action, actor="rev", role="reviewer", note="  ")


def test_a_clean_candidate_needs_one_approval():
    d = decide(facts(State.IN_REVIEW), Action.APPROVE, actor="rev", role="reviewer")
    assert d.to_state is State.APPROVED and d.approvals_needed == 1


def test_a_risky_candidate_needs_two_reviewers_each_acknowledging_every_risk():
    risks = ("justifies_violence", "credibility")
    f = facts(State.IN_REVIEW, risks)
    with pytest.raises(AcknowledgementMissing, match="credibility"):
        decide(f, Action.APPROVE, actor="r1", role="reviewer", acknowledged_risks=("justifies_violence",))
    d1 = decide(f, Action.APPROVE, actor="r1", role="reviewer", acknowledged_risks=risks)
    assert d1.to_state is State.IN_REVIEW and d1.approvals_needed == 2 and d1.approvals_after == 1
    first = ApprovalFact("r1", 3, "h3", risks)
    f2 = facts(State.IN_REVIEW, risks, approvals=(first,))
    assert not is_fully_approved(f2)
    with pytest.raises(PermissionRefused, match="already approved"):
        decide(f2, Action.APPROVE, actor="r1", role="reviewer", acknowledged_risks=risks)
    d2 = decide(f2, Action.APPROVE, actor="r2", role="admin", acknowledged_risks=risks)
    assert d2.to_state is State.APPROVED
    second = ApprovalFact("r2", 3, "h3", risks)
    assert is_fully_approved(facts(State.APPROVED, risks, approvals=(first, second)))


def test_approvals_of_an_older_version_do_not_count():
    risks = ("intent_to_return",)
    stale = ApprovalFact("r1", 2, "h2", risks)
    f = facts(State.IN_REVIEW, risks, approvals=(stale,))
    d = decide(f, Action.APPROVE, actor="r2", role="reviewer", acknowledged_risks=risks)
    assert d.to_state is State.IN_REVIEW and d.approvals_after == 1


def test_nobody_approves_a_version_they_edited():
    f = facts(State.PROPOSED, edited_by=("rev",))
    with pytest.raises(PermissionRefused, match="edited"):
        decide(f, Action.APPROVE, actor="rev", role="reviewer")
    decide(f, Action.APPROVE, actor="other", role="reviewer")
