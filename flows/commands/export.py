"""`counterclips export CANDIDATE_ID`: through the review gate, then one render.

Loads the candidate's current version, its interview and the interviewee's consent from the store,
asks `review` for an export authorisation (a refusal is a one-line error naming the reason),
renders with a progress bar and prints the paths written. The consent decides the protection:
no face consent blurs faces, no voice consent alters the voice, no name consent redacts the real
names (identifying words are always redacted).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.errors import CounterclipsError

PROFILE_NAMES = ("master", "vertical", "square")
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow")


class ExportError(CounterclipsError):
    """The export command cannot proceed (missing source, mismatching candidate data)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="render an approved candidate (goes through the review gate)",
        description="Render an approved candidate version: the review gate must authorise it (the "
                    "interviewee's consent decides face blur, voice change and name redaction); "
                    "prints the paths written.")
    p.add_argument("candidate_id", type=int, metavar="CANDIDATE_ID")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="master",
                   help="master (16:9, source size up to 1080p, -23 LUFS), vertical (1080x1920, "
                        "-14 LUFS) or square (1:1, -14 LUFS); default master")
    p.add_argument("--lang", metavar="CODE",
                   help="language of the burned subtitles (default: the interview's language)")
    p.add_argument("--platform", default="any", metavar="NAME",
                   help="where the clip will be published; the interviewee's consent must cover it")
    p.add_argument("--out", type=Path, metavar="DIR", help="output directory (default: WORKSPACE/exports)")
    p.add_argument("--preset", choices=X264_PRESETS, metavar="PRESET",
                   help="x264 preset: faster ones encode sooner, slower ones make smaller files at the "
                        "same quality (default veryfast; medium or slower for archive copies)")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    p.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    p.set_defaults(func=cmd_export)


@dataclass(frozen=True, slots=True)
class Protection:
    """What the consent (and the approved render options) require of an export."""

    blur_faces: bool
    alter_voice: bool
    redact_terms: tuple[str, ...]
    shows_name: bool


def protection_for(consent: Any, real_names: tuple[str, ...], identifying_words: tuple[str, ...],
                   render_options: dict[str, Any]) -> Protection:
    """Consent sets the floor; approved render options may only add protection."""
    from review.gate import registry_redactions

    blur = (not consent.face) or bool(render_options.get("blur_faces"))
    alter = (not consent.voice) or bool(render_options.get("alter_voice"))
    shows_name = bool(consent.name) and not render_options.get("redact_names")
    return Protection(blur, alter, registry_redactions(real_names, identifying_words, shows_name),
                      shows_name=shows_name)


def editor_redactions(redactions: tuple[Any, ...]) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
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


def _source_path(workspace: Any, source_path: str) -> Path:
    p = Path(source_path)
    return p if p.is_absolute() else workspace.root / p


def _year(recorded: str) -> str:
    digits = "".join(c for c in recorded[:4] if c.isdigit())
    return digits if len(digits) == 4 else ""


def cmd_export(args: argparse.Namespace) -> int:
    from clips_metadata.records import hash_fields
    from clips_metadata.store import Store
    from clips_metadata.workspace import resolve_workspace
    from pipeline.authorisation import version_hash
    from pipeline.publication import PlanError, Target, plan_hash
    from pipeline.render.export import render_export
    from review.gate import ExportRequest
    from review.keys import load_or_create_key
    from review.service import ReviewService

    ws = resolve_workspace(args.workspace).ensure()
    store = Store.for_workspace(ws)
    try:
        svc = ReviewService.over(store)
        cid = args.candidate_id
        cand = store.get_candidate(cid)
        interview = store.get_interview(cand.interview_id)
        person = store.get_interviewee_by_id(interview.interviewee_id)
        language = args.lang or interview.language or cand.language
        opts = dict(cand.render_options)
        guard = protection_for(person.consent, person.real_names, person.identifying_words, opts)
        extra_terms, extra_spans = editor_redactions(cand.redactions)

        # Render exactly what was approved: check the data against its version hash.
        fields = hash_fields(interview.sha256, cand.start, cand.end, cand.subtitles, cand.translations,
                             cand.redactions, cand.render_options)
        if version_hash(fields) != cand.content_hash:
            raise ExportError(f"candidate {cid} data does not match its version hash; refusing to render")
        source = _source_path(ws, interview.source_path)
        if not source.is_file():
            raise ExportError(f"the source of interview {interview.id} is missing")
        transcript = store.load_transcript(cand.transcript_id)
        tinfo = store.get_transcript(cand.transcript_id)
        key = load_or_create_key(ws, "export")
        gate_request = ExportRequest(profile=args.profile, language=language, platform=args.platform,
                                     shows_face=not guard.blur_faces, uses_real_voice=not guard.alter_voice,
                                     shows_name=guard.shows_name)
        try:
            plan = _plan(cand, interview, person, transcript.words, opts, extra_terms, extra_spans,
                         Target(args.profile, language, args.platform), args.preset, key)
        except PlanError:
            svc.authorise(cid, gate_request, key=key)  # the gate's own refusal comes first
            raise
        gate_request = replace(gate_request, plan_hash=plan_hash(plan))
        auth = svc.authorise(cid, gate_request, key=key)  # GateRefused: one line, exit 1
        provenance = {"transcript": {"id": tinfo.id, "version": tinfo.version, "backend": tinfo.backend,
                                     "model": tinfo.model, "language": tinfo.language},
                      "approvals": svc.rs.approvals(cid), "audit": tuple(svc.rs.audit_for_manifest(cid))}
        out_dir = args.out or ws.exports
        result = _render_with_progress(
            lambda progress: render_export(plan, auth, key, source, out_dir, progress, provenance=provenance),
            cid, args.no_progress)
        svc.rs.record_export(cid, cand.version, cand.content_hash, profile=args.profile, language=language,
                             paths=[str(p) for p in result.paths], output_sha256=result.sha256,
                             manifest_path=str(result.manifest), authorisation=auth.to_dict(),
                             created_by=os.environ.get("USER", "cli"))
    finally:
        store.close()
    for path in result.paths:
        print(path)
    return 0


def _render_with_progress(render: Any, cid: int, quiet: bool) -> Any:
    if quiet:
        return render(None)
    from tqdm import tqdm

    with tqdm(total=100, unit="%", desc=f"export {cid}", file=sys.stderr,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}") as bar:
        def progress(fraction: float) -> None:
            bar.update(max(0.0, round(fraction * 100, 1) - bar.n))

        return render(progress)


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

    fps = float((interview.media or {}).get("fps") or 25.0)
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
