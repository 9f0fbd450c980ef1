"""Timelines for editing suites, and recuts coming back from them.

- `export_timelines`: approved candidates as one sequence (OTIO, FCP 7 XML, FCPXML, EDL), each
  clip built from its publication plan (`flows.services.exporting.prepare_export`, the one plan
  builder) and its rendered, redacted export (rendered first through `export_candidate` when
  missing). The raw source is referenced only under a raw-source grant the gate signs separately
  for a role allowed to hand out raw footage; the timeline's manifest records it.
- `import_timeline`: an edited OTIO / FCP 7 XML / EDL read against the candidate's source and
  export becomes a new version in `proposed` (audited); several ranges of the source are stored as
  one clip with cuts (`render_options["cuts"]`), which the renderer refuses until it can play them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clips_metadata.review_store import ExportRecord, ReviewStore
from clips_metadata.store import Store
from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError
from review.export_settings import ExportSettings, Progress

TIMELINE_FORMATS = ("otio", "fcp7", "fcpxml", "edl")


class TimelineExportError(CounterclipsError):
    """A timeline cannot be exported or imported as asked (one-line reason)."""


@dataclass(frozen=True, slots=True)
class TimelineRequest:
    """What a timeline export asks for. `export` selects the rendered export each clip points at,
    as `counterclips export` would render it, and names the actor (its out_dir is not used: the
    renders stay under the workspace's exports/); `out_dir` is where the timeline folder goes
    (None: exports/timelines). `raw_source` needs `role` (the authenticated actor's) to be
    allowed to hand out raw footage."""

    fmt: str
    export: ExportSettings = ExportSettings()
    out_dir: Path | None = None
    raw_source: bool = False
    role: str = ""


@dataclass(frozen=True, slots=True)
class TimelineExport:
    """What a timeline export wrote: the timeline, its subtitles, then its manifest."""

    directory: Path
    timeline: Path
    subtitles: tuple[Path, ...]
    manifest: Path
    clip_ids: tuple[str, ...]
    raw_source: bool

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.timeline, *self.subtitles, self.manifest)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The version an imported timeline made: its range, any cuts inside it, and its status."""

    candidate_id: int
    version: int
    start: float
    end: float
    cuts: tuple[tuple[float, float], ...]
    status: str
    fmt: str


def _settings(request: TimelineRequest) -> ExportSettings:
    return replace(request.export, out_dir=None)


def _finished_export(rs: ReviewStore, cand: Any, plan_hash: str) -> ExportRecord | None:
    """The newest export of exactly this plan whose files are all still there."""
    for record in reversed(rs.exports(cand.id)):
        if (record.version, record.version_hash) != (cand.version, cand.content_hash):
            continue
        if not record.manifest_path or not all(Path(p).is_file() for p in record.paths):
            continue
        manifest = _manifest(record)
        if manifest.get("candidate", {}).get("plan_hash") == plan_hash:
            return record
    return None


def _manifest(record: ExportRecord) -> dict[str, Any]:
    import json

    try:
        data = json.loads(Path(record.manifest_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TimelineExportError(f"export {record.id}: unreadable manifest ({exc})") from exc
    return data if isinstance(data, dict) else {}


def protected_terms(person: Any) -> tuple[str, ...]:
    """Every registry word of the person: real names and identifying words (their terms)."""
    from pipeline.terms import IdentifyingWord

    words = tuple(IdentifyingWord.parse(w).term for w in person.identifying_words if w.strip())
    return tuple(n for n in (*person.real_names, *words) if n.strip())


def rendered_span(manifest: dict[str, Any], default_fps: float) -> tuple[float, float]:
    """(where the cut starts in the rendered file, the file's length) from its manifest, seconds.

    The render ends on its own frame grid, so a file up to one frame shorter than title card +
    cut + end card is taken at that length: it holds the same cut."""
    output = manifest.get("output", {})
    cards = manifest.get("cards") or {}
    start = float(cards["title"]["duration"]) if cards.get("title") else 0.0
    end_card = float(cards["end"]["duration"]) if cards.get("end") else 0.0
    source = manifest.get("source", {})
    cut = float(source.get("out", 0.0)) - float(source.get("in", 0.0))
    duration = float(output.get("duration") or 0.0)
    fps = float(output.get("fps") or 0) or default_fps
    wanted = start + cut + end_card
    if 0 < wanted - duration <= 1.0 / fps + 1e-3:
        duration = wanted
    return start, duration


def timeline_clip(prepared: Any, record: ExportRecord, comments: Sequence[Any] = ()) -> Any:
    """The `pipeline.timeline` clip of a prepared export and its rendered file: neutral id
    `c<id>v<version>`, the plan's cut, themes/risks/comments/redactions as markers, subtitles."""
    from flows.services.publishing import redact_for_log
    from pipeline.publication import plan_hash
    from pipeline.timeline.records import (
        BlurRegion,
        ClipMarker,
        MediaRef,
        RedactionPlan,
        RenderedMedia,
        TimelineClip,
    )

    plan, cand, interview, person = prepared.plan, prepared.candidate, prepared.interview, prepared.person
    manifest = _manifest(record)
    output = manifest.get("output", {})
    video = next((Path(p) for p in record.paths if str(p).endswith(".mp4")), None)
    if video is None:
        raise TimelineExportError(f"export {record.id} of candidate {cand.id} has no video file")
    start, duration = rendered_span(manifest, plan.source_fps)
    rendered = RenderedMedia(MediaRef(str(video), record.output_sha256), duration, start,
                             int(output.get("width") or 0),
                             int(output.get("height") or 0), float(output.get("fps") or 0) or None)
    lo, hi = plan.start, plan.end
    markers = [ClipMarker("theme", t.replace("_", " "), lo, hi) for t in cand.themes]
    markers += [ClipMarker("risk", r.replace("_", " "), lo, hi) for r in cand.risks]
    for event in comments:  # review notes, redacted: a note may quote a name
        note = redact_for_log(str(event.note), person)[:200]
        if note:
            markers.append(ClipMarker("comment", f"{event.actor}: {note}", lo, hi))
    bleeps = tuple((round(lo + a, 3), round(lo + b, 3)) for a, b in plan.bleeps)
    boxes = tuple(BlurRegion(lo + b.start, lo + b.end, b.x, b.y, b.width, b.height) for b in plan.blur_boxes)
    media = interview.media or {}
    video_stream = next((s for s in media.get("streams", ()) if s.get("kind") == "video"), {})
    return TimelineClip(
        clip_id=f"c{cand.id}v{cand.version}", candidate_id=cand.id, version=cand.version,
        source=MediaRef(str(prepared.source), interview.sha256), fps=plan.source_fps, in_s=plan.start,
        out_s=plan.end, width=int(video_stream.get("width") or 0),
        height=int(video_stream.get("height") or 0),
        source_duration_s=float(interview.duration) if interview.duration else None, rendered=rendered,
        markers=tuple(markers), subtitles=plan.tracks,
        redaction=RedactionPlan(bleeps, boxes, plan.blur_faces, plan.alter_voice), plan_hash=plan_hash(plan))


def _neutral_source(clip: Any, folder: Path, terms: Sequence[str]) -> Any:
    """The clip with its raw source at a path that carries no registry term: as it is, or
    hard-linked (else copied) into `folder/media/<sha256><suffix>`."""
    from pipeline.atomic import atomic_path
    from pipeline.errors import ProtectedNameError
    from pipeline.timeline.neutral_names import check_no_protected
    from pipeline.timeline.records import MediaRef

    try:
        check_no_protected([str(Path(clip.source.path).absolute())], terms, "the raw source's path")
        return clip
    except ProtectedNameError:
        pass
    target = folder / "media" / f"{clip.source.sha256}{Path(clip.source.path).suffix.lower()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            try:
                os.link(clip.source.path, tmp)
            except OSError:
                shutil.copyfile(clip.source.path, tmp)
    return replace(clip, source=MediaRef(str(target), clip.source.sha256))


def export_timelines(store: Store, workspace: Workspace, candidate_ids: Sequence[int],
                     request: TimelineRequest, progress: Progress | None = None) -> TimelineExport:
    """Write approved candidates as one timeline sequence in `request.fmt`, with SRTs per language
    and a manifest. Each candidate goes through the gate again (GateRefused names why); a missing
    rendered export is rendered first. Raises TimelineExportError, GateRefused, ExportError,
    TimelineError / ProtectedNameError."""
    import json

    from flows.services.exporting import export_candidate, prepare_export, refuse_cuts
    from pipeline.atomic import write_json_atomic
    from pipeline.timeline.neutral_names import check_no_protected
    from pipeline.timeline.records import RawSourceGrant as ClipGrant
    from pipeline.timeline.write import export_timeline
    from review.gate import authorise_raw_source
    from review.service import ReviewService

    if request.fmt not in TIMELINE_FORMATS:
        raise TimelineExportError(
            f"unknown timeline format {request.fmt!r}; use {', '.join(TIMELINE_FORMATS)}")
    if not candidate_ids:
        raise TimelineExportError("name at least one candidate")
    if len(set(candidate_ids)) != len(candidate_ids):
        raise TimelineExportError("a candidate is named twice")
    rs = ReviewStore(store)
    svc = ReviewService(rs)
    clips, grants, signed, terms, entries = [], [], [], set(), []
    for cid in candidate_ids:
        prepared = prepare_export(store, workspace, cid, _settings(request))
        cand = prepared.candidate
        auth = svc.authorise(cid, prepared.gate_request, key=prepared.key)  # GateRefused names why
        refuse_cuts(cand)
        record = _finished_export(rs, cand, prepared.gate_request.plan_hash)
        if record is None:
            record = export_candidate(store, workspace, cid, _settings(request), progress)
        comments = [e for e in rs.history(cid) if e.note.strip()]
        clip = timeline_clip(prepared, record, comments)
        terms.update(protected_terms(prepared.person))
        if request.raw_source:
            grant = authorise_raw_source(auth, clip.source.sha256, actor=request.export.actor,
                                         role=request.role, key=prepared.key)
            signed.append(grant.to_dict())
            grants.append(ClipGrant(cid, cand.version, clip.source.sha256, request.export.actor))
        clips.append(clip)
        entries.append({"clip": clip.clip_id, "candidate": cid, "version": cand.version,
                        "plan_hash": clip.plan_hash, "export": record.id,
                        "media_sha256": clip.source.sha256 if request.raw_source else record.output_sha256,
                        "source_sha256": clip.source.sha256, "in": clip.in_s, "out": clip.out_s,
                        "authorisation": auth.to_dict()})
    now = datetime.now(UTC)
    stem = clips[0].clip_id if len(clips) == 1 else f"selection-{now.strftime('%Y%m%dT%H%M%SZ')}"
    base = Path(request.out_dir or workspace.exports / "timelines")
    folder = base.absolute() / f"{stem}-{request.fmt}"
    folder.mkdir(parents=True, exist_ok=True)
    if request.raw_source:
        clips = [_neutral_source(c, folder, tuple(terms)) for c in clips]
    written = export_timeline(clips, folder, stem, request.fmt, grants, tuple(terms))
    manifest = {
        "schema": "counterclips.timeline/1", "format": request.fmt,
        "created": now.isoformat(timespec="seconds"),
        "created_by": request.export.actor, "sequence": stem, "clips": entries,
        "raw_source": bool(request.raw_source), "raw_source_grants": signed,
        "files": [{"file": p.name, "sha256": _sha(p)} for p in written],
    }
    check_no_protected([json.dumps(manifest, ensure_ascii=False)], tuple(terms), "the timeline manifest")
    manifest_path = write_json_atomic(folder / "manifest.json", manifest)
    return TimelineExport(folder, written[0], tuple(written[1:]), manifest_path,
                          tuple(c.clip_id for c in clips), bool(request.raw_source))


def _sha(path: Path) -> str:
    from pipeline.atomic import file_sha256

    return file_sha256(path)


def _edl_rate(path: Path, rendered: dict[str, float], source_fps: float) -> float:
    """The rate an EDL's timecode runs on: the rendered clip's when the EDL names that file
    (our timelines point at it, with `* FROM CLIP: file://...`), else the source's."""
    from urllib.parse import unquote

    if path.suffix.lower() != ".edl" or not rendered:
        return source_fps
    try:
        with path.open("rb") as f:
            head = unquote(f.read(2 * 1024 * 1024).decode("utf-8", "replace"))
    except OSError:
        return source_fps  # read_timeline reports the unreadable file
    for video, rate in rendered.items():
        if video in head:
            return rate
    return source_fps


def import_timeline(store: Store, workspace: Workspace, path: str | os.PathLike[str], candidate_id: int, *,
                    actor: str, role: str, fmt: str | None = None) -> ImportResult:
    """Read an edited timeline against the candidate's source (and its rendered exports) and
    store the cut as a new version in `proposed`, audited as an edit by `actor`. Raises
    TimelineRefused (line-numbered) for what cannot come back, TimelineExportError when the
    timeline changes nothing."""
    from flows.services.exporting import _source_path, source_fps
    from pipeline.atomic import file_sha256
    from pipeline.timeline.read import known_media, read_timeline
    from pipeline.timeline.records import KnownMedia, MediaRef, TimelineClip
    from review.service import ReviewService

    rs = ReviewStore(store)
    cand = store.get_candidate(candidate_id)
    interview = store.get_interview(cand.interview_id)
    source = _source_path(workspace, interview.source_path)
    fps = source_fps(interview)
    clip = TimelineClip(clip_id=f"c{cand.id}v{cand.version}", candidate_id=cand.id, version=cand.version,
                        source=MediaRef(str(source), interview.sha256), fps=fps, in_s=cand.start,
                        out_s=cand.end, source_duration_s=float(interview.duration))
    src, _ = known_media(clip)
    also = []
    rates: dict[str, float] = {}  # rendered file -> its frame rate (an EDL's timecode runs on it)
    # Any rendered export of this candidate stands for the source, through its own offset.
    for record in rs.exports(cand.id):
        video = next((Path(p) for p in record.paths if str(p).endswith(".mp4")), None)
        if video is None or not Path(record.manifest_path).is_file():
            continue
        manifest = _manifest(record)
        start, duration = rendered_span(manifest, fps)
        offset = float(manifest.get("source", {}).get("in", cand.start)) - start
        rates[str(video.absolute())] = float(manifest.get("output", {}).get("fps") or 0) or fps
        also.append(KnownMedia(MediaRef(str(video), record.output_sha256), duration, offset,
                               (f"c{cand.id}v{record.version}",)))
    cut = read_timeline(path, fmt, source=src, also=tuple(also), fps=_edl_rate(Path(path), rates, fps))
    cuts = cut.cuts
    opts = dict(cand.render_options)
    opts.pop("cuts", None)
    if cuts:
        opts["cuts"] = [[round(a, 3), round(b, 3)] for a, b in cuts]
    start, end = round(cut.in_s, 3), round(cut.out_s, 3)
    if (abs(start - cand.start) < 1e-3 and abs(end - cand.end) < 1e-3
            and dict(opts) == dict(cand.render_options)):
        raise TimelineExportError(f"the timeline keeps candidate {cand.id}'s cut as it is: nothing to import")
    digest = file_sha256(Path(path))[:12]
    note = f"recut from an imported {cut.fmt} timeline (file sha256 {digest})"
    if cuts:
        note += f" with {len(cuts)} cut(s)"
    changes = {"start": start, "end": end, "render_options": opts}
    edited = ReviewService(rs).edit(cand.id, cand.version, changes, actor=actor, role=role, note=note)
    return ImportResult(edited.id, edited.version, edited.start, edited.end, tuple(cuts), edited.status,
                        cut.fmt)
