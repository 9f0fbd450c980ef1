"""Export one approved candidate: through the review gate, then one render, then recorded.

The one path to an exported file, whoever asks (`counterclips export`, the review app's export
button, the nightly run's export task). It loads the candidate's current version, its interview and
the interviewee's consent, asks the review gate for an authorisation (GateRefused names the
reason), re-checks the data against the approved version hash, assembles the subtitle tracks the
consent covers, maps consent to protection (no face consent blurs faces, no voice consent alters
the voice, no name consent redacts real names; identifying words are always redacted), renders
and records the export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clips_metadata.review_store import ExportRecord, ReviewStore
from clips_metadata.store import Store
from clips_metadata.stored_records import Consent
from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError
from pipeline.publication import Target
from review.export_settings import ExportSettings, Progress
from review.gate import GateRefused
from review.plans import editor_redactions  # noqa: F401 - re-exported (its callers import it here)


class ExportError(CounterclipsError):
    """An export cannot proceed (missing source, mismatching candidate data)."""


class PlanChanged(GateRefused):
    """The publication plan changed since it was approved; the message names what changed (a
    refusal, as the gate's: the nightly run reports it as "refused", not as a failure)."""


@dataclass(frozen=True, slots=True)
class Protection:
    """What the consent (and the approved render options) require of an export."""

    blur_faces: bool
    alter_voice: bool
    redact_terms: tuple[str, ...]
    shows_name: bool


def protection_for(consent: Consent, real_names: tuple[str, ...], identifying_words: tuple[str, ...],
                   render_options: Mapping[str, Any]) -> Protection:
    """Consent sets the floor; approved render options may only add protection."""
    from review.gate import registry_redactions

    blur = (not consent.face) or bool(render_options.get("blur_faces"))
    alter = (not consent.voice) or bool(render_options.get("alter_voice"))
    shows_name = bool(consent.name) and not render_options.get("redact_names")
    return Protection(blur, alter, registry_redactions(real_names, identifying_words, shows_name),
                      shows_name=shows_name)


def _source_path(workspace: Workspace, source_path: str) -> Path:
    p = Path(source_path)
    return p if p.is_absolute() else workspace.root / p


@dataclass(frozen=True, slots=True)
class PreparedExport:
    """Everything an export of the candidate's current version needs before the gate signs it:
    the stored records, the publication plan, the gate request (with the plan's hash) and the key."""

    candidate: Any
    interview: Any
    person: Any
    plan: Any  # pipeline.publication.PublicationPlan
    gate_request: Any  # review.gate.ExportRequest
    source: Path
    key: bytes
    language: str


def prepare_export(store: Store, workspace: Workspace, candidate_id: int,
                   request: ExportSettings) -> PreparedExport:
    """Load the candidate's current version, check it against its version hash, compare its
    publication plan now with the plan the reviewers approved (`PlanChanged` names what changed
    and sends the candidate back to review) and build the plan for the request's target with
    `review.plans.plan_for` (the one plan builder: approvals, previews, exports and timelines use
    it). Raises ExportError, PlanChanged, PlanError (after the gate's own refusal, which comes
    first) or GateRefused."""
    from dataclasses import replace

    from clips_metadata.stored_records import hash_fields
    from pipeline.authorisation import version_hash
    from pipeline.publication import PlanError, plan_hash
    from review.gate import ExportRequest
    from review.plans import Planner
    from review.service import ReviewService

    cid = candidate_id
    planner = Planner.for_workspace(store, workspace)
    svc = ReviewService(ReviewStore(store), planner)
    cand = store.get_candidate(cid)
    interview = store.get_interview(cand.interview_id)
    person = store.get_interviewee_by_id(interview.interviewee_id)
    language = request.language or interview.language or cand.language
    guard = protection_for(person.consent, person.real_names, person.identifying_words,
                           dict(cand.render_options))

    # Render exactly what was approved: check the data against its version hash...
    fields = hash_fields(interview.sha256, cand.start, cand.end, cand.subtitles, cand.translations,
                         cand.redactions, cand.render_options)
    if version_hash(fields) != cand.content_hash:
        raise ExportError(f"candidate {cid} data does not match its version hash; refusing to render")
    # ... and the plan as it stands now against the plan the reviewers approved.
    _check_approved_plan(svc, planner, cid)
    source = _source_path(workspace, interview.source_path)
    if not source.is_file():
        raise ExportError(f"the source of interview {interview.id} is missing")
    # Translation tracks publish per language: only checked ones, only consented ones
    # (a language the candidate's own approval covers is left to the gate, which checks consent).
    from review.translating import approved_languages, publish_refusal

    refusal = "" if language in approved_languages(cand) else publish_refusal(store, cid, language)
    if refusal:
        raise GateRefused(refusal)
    gate_request = ExportRequest(profile=request.profile, language=language, platform=request.platform,
                                 shows_face=not guard.blur_faces, uses_real_voice=not guard.alter_voice,
                                 shows_name=guard.shows_name)
    try:
        plan = planner.plan(cid, Target(request.profile, language, request.platform), request.preset)
    except PlanError:
        svc.authorise(cid, gate_request, key=planner.key)  # the gate's refusal first
        raise
    return PreparedExport(cand, interview, person, plan, replace(gate_request, plan_hash=plan_hash(plan)),
                          source, planner.key, language)


def _check_approved_plan(svc: Any, planner: Any, cid: int) -> None:
    """Refuse (PlanChanged) when the plan now differs from the last plan a reviewer approved."""
    from clips_metadata.plans_repo import PlansRepo
    from pipeline.publication import PlanError, plan_difference, plan_from_dict

    approved = PlansRepo(planner.store).approved(cid)
    if not approved:
        if svc.rs.approvals(cid):
            raise GateRefused(f"candidate {cid} was approved without a publication plan; "
                              "approve it again from its preview")
        return  # never approved: the gate names that
    before = plan_from_dict(approved[-1].plan)
    try:
        now = planner.plan(cid, Target(before.profile, before.language, before.platform))
        reason = plan_difference(before, now)
    except PlanError as exc:
        reason = f"no publication plan any more ({exc})"
    if reason:
        svc.send_back(cid, reason)
        raise PlanChanged(f"candidate {cid}: {reason} since it was approved; sent back to review")


def refuse_cuts(cand: Any) -> None:
    """An imported recut with cuts inside the clip is stored and reviewed, but the renderer
    plays one continuous range: refuse rather than publish the removed parts."""
    cuts = cand.render_options.get("cuts") if cand.render_options else None
    if cuts:
        spans = ", ".join(f"{float(a):.2f}-{float(b):.2f}" for a, b in cuts)
        raise ExportError(f"candidate {cand.id} v{cand.version} has cuts inside the clip (source {spans} s, "
                          "from an imported timeline); rendering cuts is not supported yet: trim it to one "
                          "range or export it as a timeline of separate candidates")


def export_candidate(store: Store, workspace: Workspace, candidate_id: int,
                     request: ExportSettings,
                     progress: Progress | None = None) -> ExportRecord:
    """Render the candidate's approved current version and record the export.

    Raises GateRefused (review.gate) when the gate refuses, ExportError when the data or the
    source do not allow a faithful render, RenderError when ffmpeg fails."""
    from pipeline.render.render_export import render_export
    from review.plans import Planner
    from review.service import ReviewService

    rs = ReviewStore(store)
    prepared = prepare_export(store, workspace, candidate_id, request)
    cand = prepared.candidate
    # Approvals count only for the plan they approved (ReviewService with a planner).
    svc = ReviewService(rs, Planner(store, prepared.key))
    auth = svc.authorise(candidate_id, prepared.gate_request, key=prepared.key)
    refuse_cuts(cand)
    tinfo = store.get_transcript(cand.transcript_id)
    provenance = {"transcript": {"id": tinfo.id, "version": tinfo.version, "backend": tinfo.backend,
                                 "model": tinfo.model, "language": tinfo.language},
                  "approvals": rs.approvals(candidate_id),
                  "audit": tuple(rs.audit_for_manifest(candidate_id))}
    out_dir = Path(request.out_dir or workspace.exports)
    result = render_export(prepared.plan, auth, prepared.key, prepared.source, out_dir, progress,
                           provenance=provenance)
    from review.translating import mark_exported

    for lang in prepared.plan.languages:  # translation tracks that went out (burned or sidecar)
        mark_exported(store, candidate_id, cand.version, lang)
    return rs.record_export(candidate_id, cand.version, cand.content_hash, profile=request.profile,
                            language=prepared.language, paths=[str(p) for p in result.paths],
                            output_sha256=result.sha256, manifest_path=str(result.manifest),
                            authorisation=auth.to_dict(), created_by=request.actor)


def source_fps(interview: Any) -> float:
    """The frame rate a plan (and a timeline of it) cuts on: the stored media's top-level rate."""
    from review.translating import source_fps as fps

    return fps(interview)


def exports_due(store: Store, profiles: Sequence[str]) -> list[int]:
    """Approved candidates whose current version lacks a finished export in some profile.

    An export counts when the store records it for this exact version hash and its manifest
    (written last by the renderer) exists: a render killed midway is simply due again.
    """
    rs = ReviewStore(store)
    due: list[int] = []
    for c in store.list_candidates(status="approved"):
        done = {e.profile for e in rs.exports(c.id)
                if e.version == c.version and e.version_hash == c.content_hash
                and e.manifest_path and Path(e.manifest_path).is_file()}
        if any(p not in done for p in profiles):
            due.append(c.id)
    return due
