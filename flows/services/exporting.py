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


def export_candidate(store: Store, workspace: Workspace, candidate_id: int,
                     request: ExportSettings,
                     progress: Progress | None = None) -> ExportRecord:
    """Render the candidate's approved current version and record the export.

    Raises GateRefused (review.gate) when the gate refuses, ExportError when the data or the
    source do not allow a faithful render, RenderError when ffmpeg fails."""
    from clips_metadata.stored_records import hash_fields
    from pipeline.authorisation import version_hash
    from pipeline.render.cards import end_card, title_card
    from pipeline.render.profiles import RenderOptions
    from pipeline.render.render_export import RenderRequest, render_export
    from pipeline.render.subs import SubtitleTrack
    from pipeline.render.timing import cues_for_text
    from review.gate import ExportRequest
    from review.keys import load_or_create_key
    from review.service import ReviewService

    rs = ReviewStore(store)
    svc = ReviewService(rs)
    cid = candidate_id
    cand = store.get_candidate(cid)
    interview = store.get_interview(cand.interview_id)
    person = store.get_interviewee_by_id(interview.interviewee_id)
    language = request.language or interview.language or cand.language
    opts = dict(cand.render_options)
    guard = protection_for(person.consent, person.real_names, person.identifying_words, opts)
    extra_terms, extra_spans = editor_redactions(cand.redactions)
    gate_request = ExportRequest(profile=request.profile, language=language, platform=request.platform,
                                 shows_face=not guard.blur_faces, uses_real_voice=not guard.alter_voice,
                                 shows_name=guard.shows_name)
    key = load_or_create_key(workspace, "export")
    auth = svc.authorise(cid, gate_request, key=key)  # GateRefused names the reason

    # Render exactly what was approved: re-read, and check the data against its version hash.
    cand = store.get_candidate(cid)
    fields = hash_fields(interview.sha256, cand.start, cand.end, cand.subtitles, cand.translations,
                         cand.redactions, cand.render_options)
    if version_hash(fields) != cand.content_hash:
        raise ExportError(f"candidate {cid} data does not match its version hash; refusing to render")
    source = _source_path(workspace, interview.source_path)
    if not source.is_file():
        raise ExportError(f"source of interview {interview.id} is missing: {source}")

    transcript = store.load_transcript(cand.transcript_id)
    tinfo = store.get_transcript(cand.transcript_id)
    words = transcript.words
    fps = float((interview.media or {}).get("fps") or 25.0)
    texts = {**{k: v for k, v in cand.translations.items() if str(v).strip()},
             **{k: v for k, v in cand.subtitles.items() if str(v).strip()}}
    # Only languages the gate authorised (the consent covers) get subtitles out of the system.
    texts = {lang: text for lang, text in texts.items() if lang in auth.languages}
    tracks = tuple(SubtitleTrack(lang, cues_for_text(text, words, cand.start, cand.end, lang, fps))
                   for lang, text in sorted(texts.items()))
    if language not in texts:
        raise ExportError(f"candidate {cid} has no approved subtitle text in {language!r}")
    title = end = None
    if opts.get("title_card"):
        title = title_card(person.pseudonym, interview.place, _year(interview.recorded))
    if opts.get("end_card"):
        end = end_card(str(opts["end_card"]))
    consent = {"pseudonym": person.pseudonym, "face": person.consent.face,
               "voice": person.consent.voice, "name": person.consent.name,
               "languages": list(person.consent.languages),
               "platforms": list(person.consent.platforms), "expires": person.consent.expires}

    render_request = RenderRequest(
        candidate_id=cid, version=cand.version, version_hash=cand.content_hash, source=str(source),
        source_sha256=interview.sha256, start=cand.start, end=cand.end,
        out_dir=str(request.out_dir or workspace.exports), profile=request.profile, language=language,
        platform=request.platform, subtitles=tracks, words=words,
        redact_terms=guard.redact_terms + extra_terms, registry_terms=guard.redact_terms,
        pseudonym=person.pseudonym,
        extra_bleeps=extra_spans, blur_faces=guard.blur_faces, alter_voice=guard.alter_voice,
        title_card=title, end_card=end,
        options=RenderOptions(preset=request.preset) if request.preset else None,
        transcript={"id": tinfo.id, "version": tinfo.version, "backend": tinfo.backend,
                    "model": tinfo.model, "language": tinfo.language},
        consent=consent, approvals=rs.approvals(cid), audit=tuple(rs.audit_for_manifest(cid)),
    )
    result = render_export(render_request, auth, key, progress=progress)
    return rs.record_export(cid, cand.version, cand.content_hash, profile=request.profile, language=language,
                            paths=[str(p) for p in result.paths], output_sha256=result.sha256,
                            manifest_path=str(result.manifest), authorisation=auth.to_dict(),
                            created_by=request.actor)


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
