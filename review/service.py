"""Review actions wired to the store: the rules decide inside the store's transaction.

For the export command::

    from review.service import ReviewService
    svc = ReviewService.over(store)          # store: clips_metadata.store.Store
    auth = svc.authorise(candidate_id, ExportRequest(...), key=load_or_create_key(ws, "export"))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from clips_metadata.errors import ConflictError
from clips_metadata.review_store import ReviewChange, ReviewStore
from pipeline.authorisation import ExportAuthorisation
from review.gate import CandidateView, ConsentView, ExportRequest, authorise_export
from review.rules import Action, ApprovalFact, Decision, ReviewError, ReviewFacts, State, decide

if TYPE_CHECKING:
    from review.plans import CurrentPlan, Planner


class StaleDecision(ConflictError):
    """The decision names a version or plan that is no longer the candidate's current one."""


class ReviewService:
    """Review actions. With a `planner` (review.plans.Planner) approvals are bound to the
    publication plan the reviewer watched: an approval counts only while the candidate's current
    plan hashes as the one approved, so a change of interviewee, consent or registry words voids
    it even when the version did not change."""

    def __init__(self, review_store: ReviewStore, planner: Planner | None = None) -> None:
        self.rs = review_store
        self.planner = planner

    @classmethod
    def over(cls, store: Any, workspace: Any = None) -> ReviewService:
        from review.plans import Planner

        return cls(ReviewStore(store), Planner.for_workspace(store, workspace) if workspace else None)

    def current_plan(self, candidate_id: int) -> CurrentPlan | None:
        """The plan reviewers watch now (None without a planner)."""
        return self.planner.review_plan(candidate_id) if self.planner else None

    def _on_plan(self, candidate_id: int, facts: ReviewFacts, current: CurrentPlan | None) -> ReviewFacts:
        if current is None or current.plan is None:
            return facts
        from dataclasses import replace

        from clips_metadata.plans_repo import PlansRepo

        approved = PlansRepo(self.rs.store).approved_hashes(candidate_id)
        kept = tuple(a for a in facts.approvals if approved.get((a.version, a.reviewer)) == current.hash)
        return replace(facts, approvals=kept)

    def facts(self, candidate_id: int, state: ReviewFacts | None = None) -> ReviewFacts:
        """The review facts, approvals counted only for the current plan. `state`: the review
        state as the caller read it (the candidate page reads it with the candidate)."""
        facts = state if state is not None else self.rs.review_state(candidate_id)
        return self._on_plan(candidate_id, facts, self.current_plan(candidate_id))

    def act(self, candidate_id: int, action: Action | str, *, actor: str, role: str,
            acknowledged_risks: Sequence[str] = (), note: str = "",
            expected_version: int | None = None, plan_hash: str | None = None,
            watched_version: int | None = None) -> Decision:
        """Approve, reject, request changes, start review or reopen, atomically and audited.
        `plan_hash`: the plan the reviewer watched; with a planner an approval of any other plan
        ("" included; None skips the check) is refused as stale, and the approved plan is recorded.
        `watched_version`: the version the person watched (the CLI's `--version`); a decision on
        any other is refused as StaleDecision.
        Raises review.rules.ReviewError (refused) or ConflictError (stale version or plan)."""
        action = Action(action)
        if action is Action.EDIT:
            raise ValueError("edits go through ReviewService.edit")
        current = self.current_plan(candidate_id) if action is Action.APPROVE else None
        out: list[Decision] = []

        def rule(state: ReviewFacts) -> ReviewChange:
            if expected_version is not None and state.version != expected_version:
                raise ConflictError(f"candidate {candidate_id} changed (now version {state.version}); reload")
            if watched_version is not None and state.version != watched_version:
                raise StaleDecision(f"candidate {candidate_id} is at version {state.version}, not the "
                                    f"version {watched_version} you watched; watch it again")
            if current is not None and current.plan is not None and current.plan.version != state.version:
                raise ConflictError(
                    f"stale: candidate {candidate_id} changed (now version {state.version}); reload")
            facts = self._on_plan(candidate_id, state, current)
            d = decide(facts, action, actor=actor, role=role, acknowledged_risks=acknowledged_risks,
                       note=note)
            if current is not None:
                if current.plan is None:
                    raise ReviewError(
                        f"candidate {candidate_id} has no publication plan to approve: {current.problem}")
                if plan_hash is not None and plan_hash != current.hash:
                    raise ConflictError(f"stale: candidate {candidate_id}'s publication plan is not the one "
                                        "shown; watch the current preview and approve again")
            out.clear()
            out.append(d)
            # One approval row per reviewer and version: re-approving a changed plan of the same
            # version records the new plan (below), not a second approval row.
            again = any(a.reviewer == actor and a.version == state.version for a in state.approvals)
            also = None
            if d.records_approval and current is not None and current.plan is not None:
                from clips_metadata.plans_repo import add_approved

                plan = current.plan
                # In the approval's own transaction: a concurrent approval sees both or neither.
                also = lambda s, _event: add_approved(  # noqa: E731
                    s, candidate_id, plan.version, actor, current.hash, plan.to_dict())
            return ReviewChange(action=action.value, actor=actor, to_state=d.to_state.value, note=note,
                                acknowledged_risks=tuple(acknowledged_risks),
                                records_approval=d.records_approval and not again, also=also)

        self.rs.apply_review(candidate_id, rule)
        return out[0]

    def send_back(self, candidate_id: int, reason: str, *, actor: str = "system") -> None:
        """Put the candidate back in front of reviewers (approved -> in review) with `reason` in
        its audit log. `reason` must name no registry term (plan_difference's are fixed phrases)."""

        def rule(state: ReviewFacts) -> ReviewChange:
            to_state = (State.IN_REVIEW if state.state is State.APPROVED else state.state).value
            return ReviewChange(action="plan_changed", actor=actor, to_state=to_state,
                                note=f"export refused: {reason}")

        self.rs.apply_review(candidate_id, rule)

    def edit(self, candidate_id: int, expected_version: int, changes: Mapping[str, Any], *,
             actor: str, role: str, note: str = "") -> Any:
        """A person's edit: a new version via Store.update_candidate, back to `proposed`, audited."""
        facts = self.facts(candidate_id)
        if facts.version != expected_version:
            raise ConflictError(f"candidate {candidate_id} changed (now version {facts.version}); reload")
        decide(facts, Action.EDIT, actor=actor, role=role)
        note = note.strip() or "edited " + ", ".join(sorted(changes))
        edited = self.rs.edit_candidate(candidate_id, expected_version, changes, actor=actor,
                                        from_state=facts.state.value, note=note)
        from review.translating import reconcile_candidate

        reconcile_candidate(self.rs.store, candidate_id, by=actor)  # translated cues need a look
        return edited

    def gate_inputs(
        self, candidate_id: int
    ) -> tuple[CandidateView, tuple[ApprovalFact, ...], ConsentView | None]:
        from review.translating import checked_languages

        facts = self.facts(candidate_id)
        cand = CandidateView(
            candidate_id=candidate_id, version=facts.version, version_hash=facts.version_hash,
            status=facts.state.value, risks=facts.risks, edited_by=facts.edited_by,
            languages=tuple(sorted({*self.rs.text_languages(candidate_id),
                                    *checked_languages(self.rs.store, candidate_id)})),
        )
        person = self.rs.interviewee_of(candidate_id)
        consent = None
        if person is not None:
            c = person.consent
            from clips_metadata.publications_repo import PublicationsRepo

            withdrawal = PublicationsRepo(self.rs.store).withdrawn(person.id)
            consent = ConsentView(pseudonym=person.pseudonym, face=c.face, voice=c.voice, name=c.name,
                                  expires=c.expires, languages=c.languages, platforms=c.platforms,
                                  real_names=person.real_names, identifying_words=person.identifying_words,
                                  withdrawn=withdrawal.created_at.date().isoformat() if withdrawal else "")
        return cand, facts.approvals, consent

    def authorise(self, candidate_id: int, request: ExportRequest, *, key: bytes,
                  now: datetime | None = None) -> ExportAuthorisation:
        """Gate the export of the candidate's current version (raises GateRefused)."""
        cand, approvals, consent = self.gate_inputs(candidate_id)
        return authorise_export(cand, approvals, consent, request, key=key, now=now)
