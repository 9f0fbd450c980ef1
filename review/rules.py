"""The review state machine. Pure: no I/O, no clock; the store and the app feed it facts.

States: proposed -> in_review -> approved | rejected | changes_requested. Any edit of what is
shown or heard makes a new candidate version and puts it back to `proposed`; approvals are bound
to a version hash, so an edit silently voids them.

Four eyes on risk: a candidate with any risk (the store lists `credibility` among the risks when
the interview carries a credibility warning) needs approvals by two different reviewers of the
same version, each acknowledging every risk. Nobody approves a version they edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pipeline.errors import CounterclipsError
from pipeline.labels import CREDIBILITY as CREDIBILITY_RISK
from pipeline.labels import ROLES, Role
from pipeline.labels import CandidateStatus as State
from pipeline.review_facts import ApprovalFact, ReviewFacts

# Re-exported: callers read them here (the facts live in pipeline so the store can return them).
__all__ = ["CREDIBILITY_RISK", "ROLES", "ApprovalFact", "ReviewFacts", "Role", "State"]


class Action(StrEnum):
    START_REVIEW = "start_review"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    EDIT = "edit"
    REOPEN = "reopen"


# Who may do what. Editors shape clips; reviewers judge them; admins may do both.
PERMITTED_ROLES: dict[Action, frozenset[Role]] = {
    Action.START_REVIEW: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.APPROVE: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.REJECT: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.REQUEST_CHANGES: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.EDIT: frozenset({Role.EDITOR, Role.REVIEWER, Role.ADMIN}),
    Action.REOPEN: frozenset({Role.EDITOR, Role.ADMIN}),
}

# Who may hand out raw (unredacted) source footage, e.g. as a timeline's media: it carries what
# every export hides (unbleeped names, unblurred faces), so only admins, by a separate grant.
RAW_FOOTAGE_ROLES: frozenset[Role] = frozenset({Role.ADMIN})


def may_hand_out_raw(role: Role | str) -> bool:
    return role in {r.value for r in RAW_FOOTAGE_ROLES}


# state -> action -> next state. APPROVE's target is `approved` only once enough approvals exist;
# until then the candidate stays `in_review` (see `decide`). Missing pairs are refused.
TRANSITIONS: dict[State, dict[Action, State]] = {
    State.PROPOSED: {
        Action.START_REVIEW: State.IN_REVIEW,
        Action.APPROVE: State.APPROVED,
        Action.REJECT: State.REJECTED,
        Action.REQUEST_CHANGES: State.CHANGES_REQUESTED,
        Action.EDIT: State.PROPOSED,
    },
    State.IN_REVIEW: {
        Action.APPROVE: State.APPROVED,
        Action.REJECT: State.REJECTED,
        Action.REQUEST_CHANGES: State.CHANGES_REQUESTED,
        Action.EDIT: State.PROPOSED,
    },
    State.APPROVED: {
        # Revoking an approval is allowed; a further approval of an approved version is not.
        Action.REJECT: State.REJECTED,
        Action.REQUEST_CHANGES: State.CHANGES_REQUESTED,
        Action.EDIT: State.PROPOSED,
    },
    State.CHANGES_REQUESTED: {
        Action.EDIT: State.PROPOSED,
        Action.START_REVIEW: State.IN_REVIEW,  # a reviewer withdraws the request
        Action.REJECT: State.REJECTED,
    },
    State.REJECTED: {
        Action.REOPEN: State.PROPOSED,
    },
}


class ReviewError(CounterclipsError):
    """A review action is not allowed (wrong state, wrong role, missing acknowledgement...)."""


class TransitionRefused(ReviewError):
    """The action is not possible from the candidate's current state."""


class PermissionRefused(ReviewError):
    """The person's role or history does not allow this action on this version."""


class AcknowledgementMissing(ReviewError):
    """An approval of a risky candidate did not acknowledge every risk."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the store must write: the next state and whether to record an approval."""

    action: Action
    from_state: State
    to_state: State
    records_approval: bool = False
    approvals_needed: int = 0
    approvals_after: int = 0


def required_approvals(risks: Iterable[str]) -> int:
    """Two distinct reviewers when there is any risk (credibility included), else one."""
    return 2 if any(True for _ in risks) else 1


def current_approvals(facts: ReviewFacts) -> tuple[ApprovalFact, ...]:
    """Approvals that still count: same version hash, one per reviewer, every risk acknowledged."""
    seen: set[str] = set()
    out: list[ApprovalFact] = []
    need = set(facts.risks)
    for a in facts.approvals:
        if a.version_hash != facts.version_hash or a.version != facts.version:
            continue
        if a.reviewer in seen or a.reviewer in facts.edited_by:
            continue
        if not need <= set(a.acknowledged_risks):
            continue
        seen.add(a.reviewer)
        out.append(a)
    return tuple(out)


def is_fully_approved(facts: ReviewFacts) -> bool:
    return len(current_approvals(facts)) >= required_approvals(facts.risks)


def allowed_actions(facts: ReviewFacts, role: Role | str) -> tuple[Action, ...]:
    """Actions a person with `role` could attempt now (the app shows only these buttons)."""
    role = Role(role)
    return tuple(
        a for a in TRANSITIONS.get(facts.state, {}) if role in PERMITTED_ROLES[a]
    )


def decide(
    facts: ReviewFacts,
    action: Action | str,
    *,
    actor: str,
    role: Role | str,
    acknowledged_risks: Sequence[str] = (),
    note: str = "",
) -> Decision:
    """Check one action against the rules and say what it leads to; raise ReviewError if refused."""
    action = Action(action)
    role = Role(role)
    state = State(facts.state)
    if role not in PERMITTED_ROLES[action]:
        raise PermissionRefused(f"a {role.value} may not {action.value.replace('_', ' ')}")
    target = TRANSITIONS.get(state, {}).get(action)
    if target is None:
        raise TransitionRefused(
            f"cannot {action.value.replace('_', ' ')} a candidate that is {state.value.replace('_', ' ')}"
        )
    if action in (Action.REJECT, Action.REQUEST_CHANGES) and not note.strip():
        raise ReviewError(f"{action.value.replace('_', ' ')} needs a note saying why")
    if action is not Action.APPROVE:
        return Decision(action, state, target)

    if actor in facts.edited_by:
        raise PermissionRefused(f"{actor} edited this version and cannot approve it")
    valid = current_approvals(facts)
    if any(a.reviewer == actor for a in valid):
        raise PermissionRefused(f"{actor} has already approved version {facts.version}")
    missing = sorted(set(facts.risks) - set(acknowledged_risks))
    if missing:
        raise AcknowledgementMissing(f"approval must acknowledge every risk; missing: {', '.join(missing)}")
    needed = required_approvals(facts.risks)
    after = len(valid) + 1
    to_state = State.APPROVED if after >= needed else State.IN_REVIEW
    return Decision(action, state, to_state, records_approval=True, approvals_needed=needed,
                    approvals_after=after)
