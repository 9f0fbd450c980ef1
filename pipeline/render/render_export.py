"""`render_export`: an approved candidate version in, a verified MP4 with sidecar subtitles and a
provenance manifest out. Nothing is read, planned or written before the export authorisation
verifies against the version about to be rendered.

Layout: `out_dir/<stem>/<stem>.mp4`, `<stem>.<lang>.srt`, `<stem>.<lang>.vtt`, `manifest.json`,
with `<stem>` = `candidate-<id>-v<version>-<profile>[-<lang>]`. The MP4 is written under a hidden
temporary name, probed, and renamed into place; `manifest.json` is written last, so an export is
complete exactly when its manifest exists.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.authorisation import (
    ExportAuthorisation,
    redaction_refusal,
    scope_refusal,
    verify_authorisation,
)
from pipeline.errors import AuthorisationError, RenderError
from pipeline.records import Cue, Word
from pipeline.render.cards import CardText, make_card_image
from pipeline.render.files import (
    commit,
    link_fonts,
    remove_stale_parts,
    remove_stale_work_dirs,
    scratch_root,
    sha256_of,
    temp_path,
    verify_output,
    work_dir_prefix,
    write_json_atomic,
    write_text_atomic,
)
from pipeline.render.manifest import build_manifest, cue_text_sha256
from pipeline.render.plan import Card, RenderJob, plan_audio_analysis, plan_render
from pipeline.render.profiles import RenderOptions, get_profile, is_rtl_language
from pipeline.render.redaction import Redaction, bleep_intervals, find_redactions, redact_cues
from pipeline.render.subs import FONTS_DIR, SubtitleTrack, clip_cues, format_ass, format_srt, format_vtt

ProgressFn = Callable[[float], None]  # fraction done, 0.0-1.0
CENTRE_SAMPLE_FPS = 0.5  # samples per second when faces are only needed to frame the speaker
ANALYSIS_SHARE = 0.05  # share of the progress bar given to the loudness analysis pass
FACES_SHARE = 0.25  # share given to face detection, when it runs


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """One export of one approved candidate version.

    Times are seconds on the source clock. `subtitles` holds the approved cues per language (source
    clock); `language` names the one burned into the picture ("" burns none). `words` are the
    transcript's timed words, used to bleep `redact_terms` (real names and identifying words),
    which become `pseudonym` in every subtitle; `extra_bleeps` are further spans an editor marked.
    `registry_terms` are the registry's terms among `redact_terms`: they must match the digest the
    authorisation carries.
    `consent`, `approvals`, `audit` and `transcript`
    are recorded in the manifest as given. `options` defaults to `RenderOptions(profile=profile)`.
    """

    candidate_id: int
    version: int
    version_hash: str
    source: str
    source_sha256: str
    start: float
    end: float
    out_dir: str
    profile: str = "master"
    language: str = ""
    platform: str = "any"
    subtitles: tuple[SubtitleTrack, ...] = ()
    words: tuple[Word, ...] = ()
    redact_terms: tuple[str, ...] = ()
    pseudonym: str = ""
    extra_bleeps: tuple[tuple[float, float], ...] = ()  # editor-marked spans (source clock)
    registry_terms: tuple[str, ...] = ()  # the registry's part of redact_terms (the gate signed it)
    blur_faces: bool = True
    alter_voice: bool = True
    title_card: CardText | None = None
    end_card: CardText | None = None
    transcript: Mapping[str, Any] = field(default_factory=dict)
    consent: Mapping[str, Any] = field(default_factory=dict)
    approvals: tuple[Any, ...] = ()
    audit: tuple[Any, ...] = ()
    options: RenderOptions | None = None

    @property
    def render_options(self) -> RenderOptions:
        return (self.options or RenderOptions()).with_profile(self.profile)

    @property
    def stem(self) -> str:
        lang = f"-{self.language}" if self.language else ""
        return f"candidate-{self.candidate_id}-v{self.version}-{self.profile}{lang}"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote. Durations in seconds; `sha256` is the MP4's."""

    directory: Path
    video: Path
    sidecars: tuple[Path, ...]
    manifest: Path
    sha256: str
    duration: float
    width: int
    height: int

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.video, *self.sidecars, self.manifest)


def _check_request(req: RenderRequest) -> None:
    get_profile(req.profile)
    if not req.end > req.start >= 0:
        raise RenderError(f"invalid cut {req.start:.3f}-{req.end:.3f}s: out must follow in")
    if req.redact_terms and not req.pseudonym.strip():
        raise RenderError("redaction terms need a pseudonym to put in their place")


def render_export(
    request: RenderRequest,
    authorisation: ExportAuthorisation | None,
    key: bytes,
    progress: ProgressFn | None = None,
) -> ExportResult:
    """Verify the authorisation, then render, verify and write the export. Raises
    AuthorisationError (nothing written), MediaError or RenderError."""
    auth = verify_authorisation(authorisation, key, request.version_hash, request.candidate_id)
    if auth.version != request.version:
        raise AuthorisationError(
            f"export authorisation is for version {auth.version}, not version {request.version}")
    languages = tuple(sorted({t.language for t in request.subtitles} | ({request.language} - {""})))
    refusal = scope_refusal(auth, request.profile, request.platform, languages,
                            request.blur_faces, request.alter_voice)
    refusal = refusal or redaction_refusal(auth, key, request.registry_terms, request.redact_terms)
    if refusal:
        raise AuthorisationError(refusal)
    _check_request(request)

    from pipeline.media import probe  # PyAV; after the authorisation check on purpose

    info = probe(request.source)
    if request.source_sha256 and info.sha256 != request.source_sha256:
        raise RenderError(f"{Path(request.source).name} is not the approved source (sha256 differs)")
    video = info.video
    if video is None or not video.width or not video.height:
        raise RenderError(f"{Path(request.source).name} has no video stream to export")
    if request.end > info.duration + 0.05:
        raise RenderError(f"out point {request.end:.3f}s is past the source's end ({info.duration:.3f}s)")
    options = request.render_options
    profile = options.profile_spec
    fps = float(video.fps or 25.0)

    # Absolute: a relative folder starting with "-" would reach ffmpeg as an option.
    export_dir = Path(request.out_dir).absolute() / request.stem
    export_dir.mkdir(parents=True, exist_ok=True)
    final = export_dir / f"{request.stem}.mp4"
    remove_stale_parts(final)
    remove_stale_work_dirs(scratch_root())

    report = progress or (lambda _f: None)
    with tempfile.TemporaryDirectory(prefix=work_dir_prefix(), dir=scratch_root()) as work_dir:
        work = Path(work_dir)
        # Progress: face detection (when it runs) takes the first share, loudness analysis a
        # little, the render the rest.
        faces_share = FACES_SHARE if (request.blur_faces or profile.kind != "fit") else 0.0
        start_render = faces_share + ANALYSIS_SHARE
        job, tracks, extra = _prepare(request, options, info.duration, video.width, video.height, fps, work,
                                      lambda f: report(faces_share * f))
        if options.normalise_loudness:
            from pipeline.render.loudness import normalisation, parse_ebur128_summary
            from pipeline.render.run import run_ffmpeg

            measured = parse_ebur128_summary(run_ffmpeg(plan_audio_analysis(job)))
            job = replace(job, loudness=measured)
            if normalisation(options, measured)[0] == "limit":
                # The limiter takes some loudness off the peaks: measure that and give it back.
                limited = parse_ebur128_summary(run_ffmpeg(plan_audio_analysis(job, check=True)))
                if limited.usable:
                    job = replace(job, loudness_trim=round(options.loudness_target - limited.input_i, 2))
        report(start_render)
        probed, sha = _render_video(job, final, lambda f: report(start_render + (1 - start_render) * f))

    sidecars, subtitle_info = _write_sidecars(request, tracks, export_dir)
    manifest = build_manifest(
        candidate={"id": request.candidate_id, "version": request.version,
                   "version_hash": request.version_hash},
        source={"file": Path(request.source).name, "sha256": info.sha256, "in": request.start,
                "out": request.end, "duration": round(request.end - request.start, 3),
                "width": video.width, "height": video.height, "fps": fps},
        transcript=request.transcript,
        subtitles=subtitle_info,
        redactions=extra["redactions"],
        identity=extra["identity"],
        consent=request.consent,
        authorisation=auth.to_dict(),
        approvals=request.approvals,
        audit=request.audit,
        render={"profile": profile.name, "platform": request.platform,
                "burned_language": request.language or None,
                "loudness_target_lufs": options.loudness_target if options.normalise_loudness else None,
                "loudness_measured": job.loudness.as_dict() if job.loudness else None,
                "loudness_trim_db": job.loudness_trim,
                "options": options.settings(), "ffmpeg": _ffmpeg_version(),
                "fonts": sorted(p.name for p in FONTS_DIR.glob("*.ttf"))},
        output={"file": final.name, "sha256": sha, "size": final.stat().st_size,
                "duration": round(probed.video_duration, 3), "width": probed.width,
                "height": probed.height, "fps": probed.fps, "video_codec": probed.video_codec,
                "audio_codec": probed.audio_codec},
        sidecars=[{"file": p.name, "sha256": sha256_of(p)} for p in sidecars],
        cards=extra["cards"],
    )
    manifest_path = write_json_atomic(export_dir / "manifest.json", manifest)
    report(1.0)
    return ExportResult(export_dir, final, tuple(sidecars), manifest_path, sha,
                        probed.video_duration, probed.width, probed.height)


def _ffmpeg_version() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_version())
    except Exception:  # noqa: BLE001 - provenance nicety, never a reason to fail
        return "unknown"


def _prepare(
    req: RenderRequest, options: RenderOptions, src_duration: float, width: int, height: int,
    fps: float, work: Path, progress: ProgressFn,
) -> tuple[RenderJob, dict[str, tuple[Cue, ...]], dict[str, Any]]:
    """Faces, cards, subtitles and bleeps worked out; the RenderJob ready for planning."""
    from pipeline.render.faces import blur_regions, detect_faces, speaker_centre
    from pipeline.render.run import ffmpeg_exe

    profile = options.profile_spec
    base = RenderJob(ffmpeg=ffmpeg_exe(), source=str(Path(req.source).resolve()), start=req.start,
                     end=min(req.end, src_duration), src_width=width, src_height=height, fps=fps,
                     output="", options=options, alter_voice=req.alter_voice)
    out_w, out_h = base.out_size

    samples: tuple[Any, ...] = ()
    if req.blur_faces or profile.kind != "fit":
        rate = options.face_sample_fps if req.blur_faces else CENTRE_SAMPLE_FPS
        samples = detect_faces(base.source, base.start, base.end, rate, progress=progress)
    regions = blur_regions(samples, base.start, base.end, width, height, options.face_padding,
                           options.face_fallback_full_frame) if req.blur_faces else ()
    centre = speaker_centre(samples)

    title = end = None
    cards: dict[str, Any] = {}
    if req.title_card is not None:
        title = Card(str(make_card_image(req.title_card, out_w, out_h, work / "title.png")),
                     req.title_card.duration)
        cards["title"] = {"lines": list(req.title_card.lines), "duration": req.title_card.duration}
    if req.end_card is not None:
        end = Card(str(make_card_image(req.end_card, out_w, out_h, work / "end.png")), req.end_card.duration)
        cards["end"] = {"lines": list(req.end_card.lines), "duration": req.end_card.duration}
    offset = title.duration if title else 0.0

    tracks: dict[str, tuple[Cue, ...]] = {}
    for track in req.subtitles:
        cues = clip_cues(track.cues, base.start, base.end, offset)
        if req.redact_terms:
            cues = redact_cues(cues, req.redact_terms, req.pseudonym)
        if cues:
            tracks[track.language] = cues
    ass_file = None
    if req.language:
        if req.language not in tracks:
            raise RenderError(f"no approved subtitles in language {req.language!r} inside the cut")
        ass_file = work / "burn.ass"
        # The ASS is burned over the clip only; cards carry no subtitles, so shift back.
        burn = tuple(Cue(round(c.start - offset, 3), round(c.end - offset, 3), c.lines)
                     for c in tracks[req.language])
        write_text_atomic(ass_file, format_ass(burn, profile.subtitles, out_w, out_h, req.language))

    redactions = find_redactions(req.words, req.redact_terms) if req.redact_terms else ()
    redactions += tuple(Redaction("(marked by an editor)", a, b, "") for a, b in req.extra_bleeps)
    bleeps = bleep_intervals(redactions, base.start, base.end, options.bleep_padding)

    job = replace(
        base, ass_file=str(ass_file) if ass_file else None,
        fonts_dir=str(link_fonts(FONTS_DIR, work / "fonts")) if ass_file else None,
        blur=regions, bleeps=bleeps,
        speaker_x=centre[0] if centre else None, speaker_y=centre[1] if centre else None,
        title_card=title, end_card=end,
    )
    extra = {
        "redactions": {"terms": len(req.redact_terms), "replacement": req.pseudonym or None,
                       "bleeps": [list(b) for b in bleeps], "occurrences": len(redactions),
                       "subtitles_redacted": bool(req.redact_terms)},
        "identity": {"face_blurred": req.blur_faces, "face_samples": len(samples),
                     "face_samples_with_faces": sum(1 for s in samples if s.boxes),
                     "blur_regions": len(regions),
                     "full_frame_blur_seconds": round(sum(min(r.end, base.duration) - r.start
                                                          for r in regions if r.full_frame), 3),
                     "voice_altered": req.alter_voice,
                     "voice_pitch_ratio": options.voice_pitch if req.alter_voice else None},
        "cards": cards,
    }
    return job, tracks, extra


def _render_video(job: RenderJob, final: Path, report: ProgressFn) -> tuple[Any, str]:
    """Run the single render into a temporary file, verify it, rename it into place."""
    from pipeline.render.run import run_ffmpeg

    tmp = temp_path(final)
    job = replace(job, output=str(tmp))
    total = job.total_duration

    def on_progress(seconds: float) -> None:
        report(0.98 * min(1.0, seconds / total))  # the last 2 %: verify, hash, rename

    try:
        run_ffmpeg(plan_render(job), progress=on_progress)
        out_w, out_h = job.out_size
        probed = verify_output(tmp, out_w, out_h, total, job.out_fps)
        sha = sha256_of(tmp)
        # Re-rendering over an earlier export: its manifest no longer describes the video about to
        # replace it, so it goes first (the export is complete again once the new one is written).
        (final.parent / "manifest.json").unlink(missing_ok=True)
        commit(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return probed, sha


def _write_sidecars(req: RenderRequest, tracks: Mapping[str, tuple[Cue, ...]],
                    export_dir: Path) -> tuple[list[Path], dict[str, dict[str, Any]]]:
    paths: list[Path] = []
    info: dict[str, dict[str, Any]] = {}
    for lang, cues in sorted(tracks.items()):
        srt = write_text_atomic(export_dir / f"{req.stem}.{lang}.srt", format_srt(cues))
        vtt = write_text_atomic(export_dir / f"{req.stem}.{lang}.vtt", format_vtt(cues))
        paths += [srt, vtt]
        info[lang] = {"text_sha256": cue_text_sha256(cues), "cues": len(cues),
                      "burned": lang == req.language, "rtl": is_rtl_language(lang),
                      "files": [srt.name, vtt.name]}
    # Sidecars of an earlier render of this export in a language no longer approved go too.
    for old in (*export_dir.glob(f"{req.stem}.*.srt"), *export_dir.glob(f"{req.stem}.*.vtt")):
        if old not in paths:
            old.unlink(missing_ok=True)
    return paths, info
