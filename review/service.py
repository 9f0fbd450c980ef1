"""Review actions wired to the store: the rules decide inside the store's transaction.

For the export command::

    from review.service import ReviewService
    svc = ReviewService.over(store)          # store: clips_metadata.store.Store
    auth = svc.authorise(candidate_id, ExportRequest(...), key=load_or_create_key(ws, "export"))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from clips_metadata.errors import ConflictError
from clips_metadata.review_store import ReviewChange, ReviewState, ReviewStore
from pipeline.authorisation import ExportAuthorisation
from review.gate import CandidateView, ConsentView, ExportRequest, authorise_export
from review.rules import Action, ApprovalFact, Decision, ReviewFacts, State, decide


def facts_of(state: ReviewState) -> ReviewFacts:
    return ReviewFacts(
        state=State(state.status), version=state.version, version_hash=state.content_hash,
        risks=state.risks, edited_by=state.edited_by,
        approvals=tuple(ApprovalFact(a.reviewer, a.version, a.version_hash, a.acknowledged_risks)
                        for a in state.approvals),
    )


class ReviewService:
    def __init__(self, review_store: ReviewStore) -> None:
        self.rs = review_store

    @classmethod
    def over(cls, store: Any) -> ReviewService:
        return cls(ReviewStore(store))

    def facts(self, candidate_id: int) -> ReviewFacts:
        return facts_of(self.rs.review_state(candidate_id))

    def act(self, candidate_id: int, action: Action | str, *, actor: str, role: str,
            acknowledged_risks: Sequence[str] = (), note: str = "",
            expected_version: int | None = None) -> Decision:
        """Approve, reject, request changes, start review or reopen, atomically and audited.
        Raises review.rules.ReviewError (refused) or ConflictError (stale `expected_version`)."""
        action = Action(action)
        if action is Action.EDIT:
            raise ValueError("edits go through ReviewService.edit")
        out: list[Decision] = []

        def rule(state: ReviewState) -> ReviewChange:
            if expected_version is not None and state.version != expected_version:
                raise ConflictError(f"candidate {candidate_id} changed (now version {state.version}); reload")
            d = decide(facts_of(state), action, actor=actor, role=role,
                       acknowledged_risks=acknowledged_risks, note=note)
            out.clear()
            out.append(d)
            return ReviewChange(action=action.value, actor=actor, to_state=d.to_state.value, note=note,
                                acknowledged_risks=tuple(acknowledged_risks),
                                records_approval=d.records_approval)

        self.rs.apply_review(candidate_id, rule)
        return out[0]

    def edit(self, candidate_id: int, expected_version: int, changes: Mapping[str, Any], *,
             actor: str, role: str, note: str = "") -> Any:
        """A person's edit: a new version via Store.update_candidate, back to `proposed`, audited."""
        facts = self.facts(candidate_id)
        if facts.version != expected_version:
            raise ConflictError(f"candidate {candidate_id} changed (now version {facts.version}); reload")
        decide(facts, Action.EDIT, actor=actor, role=role)
        note = note.strip() or "edited " + ", ".join(sorted(changes))
        return self.rs.edit_candidate(candidate_id, expected_version, changes, actor=actor,
                                      from_state=facts.state.value, note=note)

    def gate_inputs(
        self, candidate_id: int
    ) -> tuple[CandidateView, tuple[ApprovalFact, ...], ConsentView | None]:
        facts = self.facts(candidate_id)
        cand = CandidateView(
            candidate_id=candidate_id, version=facts.version, version_hash=facts.version_hash,
            status=facts.state.value, risks=facts.risks, edited_by=facts.edited_by,
            languages=self.rs.text_languages(candidate_id),
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
