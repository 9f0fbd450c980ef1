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
from review.export_settings import ExportSettings, Progress


class ExportError(CounterclipsError):
    """An export cannot proceed (missing source, mismatching candidate data)."""


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


def editor_redactions(
    redactions: Sequence[Mapping[str, Any]],
) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
    """Terms and time spans an editor added to the candidate version (lenient about key names)."""
    terms: list[str] = []
    spans: list[tuple[float, float]] = []
    for r in redactions:
        text = next((str(r[k]) for k in ("term", "text", "word") if r.get(k)), "")
        if text.strip():
            terms.append(text.strip())
        if r.get("start") is not None and r.get("end") is not None and float(r["end"]) > float(r["start"]):
            spans.append((float(r["start"]), float(r["end"])))
    return tuple(terms), tuple(spans)


def _source_path(workspace: Workspace, source_path: str) -> Path:
    p = Path(source_path)
    return p if p.is_absolute() else workspace.root / p


def _year(recorded: str) -> str:
    digits = "".join(c for c in recorded[:4] if c.isdigit())
    return digits if len(digits) == 4 else ""


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
    """Load the candidate's current version, check it against its version hash and build its
    publication plan (the one plan builder: exports and timelines use it). Raises ExportError,
    PlanError (after the gate's own refusal, which comes first) or GateRefused."""
    from dataclasses import replace

    from clips_metadata.stored_records import hash_fields
    from pipeline.authorisation import version_hash
    from pipeline.publication import PlanError, Target, plan_hash
    from review.gate import ExportRequest
    from review.keys import load_or_create_key
    from review.service import ReviewService

    cid = candidate_id
    cand = store.get_candidate(cid)
    interview = store.get_interview(cand.interview_id)
    person = store.get_interviewee_by_id(interview.interviewee_id)
    language = request.language or interview.language or cand.language
    opts = dict(cand.render_options)
    guard = protection_for(person.consent, person.real_names, person.identifying_words, opts)
    extra_terms, extra_spans = editor_redactions(cand.redactions)

    # Render exactly what was approved: check the data against its version hash.
    fields = hash_fields(interview.sha256, cand.start, cand.end, cand.subtitles, cand.translations,
                         cand.redactions, cand.render_options)
    if version_hash(fields) != cand.content_hash:
        raise ExportError(f"candidate {cid} data does not match its version hash; refusing to render")
    source = _source_path(workspace, interview.source_path)
    if not source.is_file():
        raise ExportError(f"the source of interview {interview.id} is missing")
    transcript = store.load_transcript(cand.transcript_id)
    key = load_or_create_key(workspace, "export")
    gate_request = ExportRequest(profile=request.profile, language=language, platform=request.platform,
                                 shows_face=not guard.blur_faces, uses_real_voice=not guard.alter_voice,
                                 shows_name=guard.shows_name)
    try:
        plan = _plan(cand, interview, person, transcript.words, opts, extra_terms, extra_spans,
                     Target(request.profile, language, request.platform), request.preset, key)
    except PlanError:
        ReviewService.over(store).authorise(cid, gate_request, key=key)  # the gate's refusal first
        raise
    return PreparedExport(cand, interview, person, plan, replace(gate_request, plan_hash=plan_hash(plan)),
                          source, key, language)


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
    from review.service import ReviewService

    rs = ReviewStore(store)
    prepared = prepare_export(store, workspace, candidate_id, request)
    cand = prepared.candidate
    auth = ReviewService(rs).authorise(candidate_id, prepared.gate_request, key=prepared.key)
    refuse_cuts(cand)
    tinfo = store.get_transcript(cand.transcript_id)
    provenance = {"transcript": {"id": tinfo.id, "version": tinfo.version, "backend": tinfo.backend,
                                 "model": tinfo.model, "language": tinfo.language},
                  "approvals": rs.approvals(candidate_id),
                  "audit": tuple(rs.audit_for_manifest(candidate_id))}
    out_dir = Path(request.out_dir or workspace.exports)
    result = render_export(prepared.plan, auth, prepared.key, prepared.source, out_dir, progress,
                           provenance=provenance)
    return rs.record_export(candidate_id, cand.version, cand.content_hash, profile=request.profile,
                            language=prepared.language, paths=[str(p) for p in result.paths],
                            output_sha256=result.sha256, manifest_path=str(result.manifest),
                            authorisation=auth.to_dict(), created_by=request.actor)


def source_fps(interview: Any) -> float:
    """The frame rate a plan (and a timeline of it) cuts on: the stored media's top-level rate."""
    return float((interview.media or {}).get("fps") or 25.0)


def _plan(cand: Any, interview: Any, person: Any, words: Any, opts: dict[str, Any],
          extra_terms: tuple[str, ...], extra_spans: tuple[tuple[float, float], ...], target: Any,
          preset: str | None, key: bytes) -> Any:
    """The publication plan of the candidate's current version (pipeline.publication)."""
    from pipeline.publication import ConsentSnapshot, RegistrySnapshot, VersionData, build_plan
    from pipeline.render.cards import end_card, title_card
    from pipeline.render.profiles import RenderOptions
    from pipeline.render.subs import SubtitleTrack
    from pipeline.render.timing import cues_for_text
    from pipeline.terms import IdentifyingWord

    fps = source_fps(interview)
    texts = {**{k: v for k, v in cand.translations.items() if str(v).strip()},
             **{k: v for k, v in cand.subtitles.items() if str(v).strip()}}
    tracks = tuple(SubtitleTrack(lang, cues_for_text(text, words, cand.start, cand.end, lang, fps))
                   for lang, text in sorted(texts.items()))
    title = title_card(person.pseudonym, interview.place, _year(interview.recorded)) \
        if opts.get("title_card") else None
    end = end_card(str(opts["end_card"])) if opts.get("end_card") else None
    version = VersionData(
        candidate_id=cand.id, version=cand.version, source_sha256=interview.sha256, source_fps=fps,
        start=cand.start, end=cand.end, tracks=tracks, words=tuple(words),
        extra_terms=tuple(IdentifyingWord.parse(t) for t in extra_terms), extra_bleeps=extra_spans,
        options=RenderOptions(preset=preset) if preset else RenderOptions(), title_card=title, end_card=end,
        blur_faces=bool(opts.get("blur_faces")), alter_voice=bool(opts.get("alter_voice")),
        redact_names=bool(opts.get("redact_names")))
    c = person.consent
    consent = ConsentSnapshot(face=c.face, voice=c.voice, name=c.name, languages=tuple(c.languages),
                              platforms=tuple(c.platforms),
                              expires=c.expires.isoformat() if c.expires else "")
    words_to_hide = tuple(IdentifyingWord.parse(w) for w in person.identifying_words if w.strip())
    registry = RegistrySnapshot(person.id, person.pseudonym, tuple(person.real_names), words_to_hide, consent)
    return build_plan(version, registry, target, key=key)


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
