"""`render_export` and `render_preview`: a publication plan in, a verified MP4 out.

The renderer renders only from a `PublicationPlan` (pipeline.publication): its cut, redacted
cues, bleeps, blur, voice, cards and encoder settings. `render_export` takes nothing that could
contradict the plan (no cut, version or hash beside it), and writes nothing before an
authorisation that signs exactly `plan_hash(plan)` verifies. The source file is named by path
but must hash to the plan's `source_sha256`.

`render_preview` renders the same plan through the same ffmpeg graph, in a smaller frame with a
fast preset and without an authorisation, to a path the caller names (never an exports folder).

Export layout: `out_dir/<stem>/<stem>.mp4`, `<stem>.<lang>.srt`, `<stem>.<lang>.vtt`,
`manifest.json`, with `<stem>` = `candidate-<id>-v<version>-<profile>[-<lang>]`. The MP4 is
written under a hidden temporary name, probed, and renamed into place; `manifest.json` is written
last, so an export is complete exactly when its manifest exists.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.authorisation import ExportAuthorisation, scope_refusal, verify_plan_authorisation
from pipeline.errors import AuthorisationError, MediaError, RenderError
from pipeline.publication import PublicationPlan, plan_hash
from pipeline.records import Cue
from pipeline.render.cards import make_card_image
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
from pipeline.render.manifest import build_manifest, cue_text_sha256, neutral_source_id, without_notes
from pipeline.render.plan import BlurRegion, Card, RenderJob, plan_audio_analysis, plan_render
from pipeline.render.profiles import RenderOptions
from pipeline.render.subs import FONTS_DIR, format_ass, format_srt, format_vtt
from pipeline.translation.limits import is_rtl_language

ProgressFn = Callable[[float], None]  # fraction done, 0.0-1.0
CENTRE_SAMPLE_FPS = 0.5  # samples per second when faces are only needed to frame the speaker
ANALYSIS_SHARE = 0.05  # share of the progress bar given to the loudness analysis pass
FACES_SHARE = 0.25  # share given to face detection, when it runs


@dataclass(frozen=True, slots=True)
class PreviewOptions:
    """How a preview differs from its export: frame height capped at `max_height` (never
    upscaled), x264 `preset` and `crf`. Everything else (cut, text, bleeps, blur, voice,
    loudness, cards) is the plan's."""

    max_height: int = 360
    preset: str = "ultrafast"
    crf: int = 30


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
    plan_hash: str

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.video, *self.sidecars, self.manifest)


@dataclass(frozen=True, slots=True)
class PreviewResult:
    """A preview written to `video`, of the plan whose hash is `plan_hash`."""

    video: Path
    plan_hash: str
    duration: float
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Rendered:
    job: RenderJob
    probed: Any
    sha256: str
    samples: tuple[Any, ...]
    regions: tuple[BlurRegion, ...]
    src: Any  # media.MediaInfo


def stem_of(plan: PublicationPlan) -> str:
    lang = f"-{plan.language}" if plan.language else ""
    return f"candidate-{plan.candidate_id}-v{plan.version}-{plan.profile}{lang}"


def render_export(
    plan: PublicationPlan,
    authorisation: ExportAuthorisation | None,
    key: bytes,
    source: str | Path,
    out_dir: str | Path,
    progress: ProgressFn | None = None,
    *,
    provenance: Mapping[str, Any] | None = None,
    face_cache: Path | None = None,
) -> ExportResult:
    """Verify that `authorisation` signs exactly `plan`, then render, verify and write the export.

    `provenance` (approvals, audit, transcript facts) goes into the manifest only, without any
    note or comment fields. `face_cache`: a folder of face samples shared with the review page
    and other profiles' renders (`pipeline.render.face_cache`; None: detect afresh). Raises
    AuthorisationError (nothing written), MediaError or RenderError."""
    digest = plan_hash(plan)
    auth = verify_plan_authorisation(authorisation, key, digest, plan.candidate_id, plan.version)
    refusal = scope_refusal(auth, plan.profile, plan.platform, plan.languages,
                            plan.blur_faces, plan.alter_voice)
    if refusal:
        raise AuthorisationError(refusal)

    stem = stem_of(plan)
    # Absolute: a relative folder starting with "-" would reach ffmpeg as an option.
    export_dir = Path(out_dir).absolute() / stem
    final = export_dir / f"{stem}.mp4"

    def before_commit() -> None:
        # Re-rendering over an earlier export: its manifest no longer describes the video about
        # to replace it, so it goes first (the export is complete again once the new one is).
        (export_dir / "manifest.json").unlink(missing_ok=True)

    done = _render(plan, source, final, plan.options, None, progress, before_commit, mkdir=export_dir,
                   face_cache=face_cache)
    sidecars, subtitle_info = _write_sidecars(plan, stem, export_dir)
    options, job, video = plan.options, done.job, done.src.video
    manifest = build_manifest(
        candidate={"id": plan.candidate_id, "version": plan.version, "plan_hash": digest},
        source={"id": neutral_source_id(plan.source_sha256), "sha256": plan.source_sha256,
                "in": plan.start, "out": plan.end, "duration": plan.duration,
                "width": video.width, "height": video.height, "fps": plan.source_fps},
        transcript=without_notes((provenance or {}).get("transcript", {})),
        subtitles=subtitle_info,
        redactions={"bleeps": [list(b) for b in plan.bleeps], "subtitles_redacted": True,
                    "replacements": "real names: pseudonym; other identifying words: their "
                                    "registry replacement or a neutral placeholder"},
        identity={"face_blurred": plan.blur_faces, "face_samples": len(done.samples),
                  "face_samples_with_faces": sum(1 for s in done.samples if s.boxes),
                  "blur_regions": len(done.regions), "manual_blur_boxes": len(plan.blur_boxes),
                  # The plan's manual boxes themselves (clip clock, source pixels): what was approved.
                  "blur_boxes": [{"x": b.x, "y": b.y, "width": b.width, "height": b.height,
                                  "start": b.start, "end": b.end} for b in plan.blur_boxes],
                  "full_frame_blur_seconds": round(sum(min(r.end, job.duration) - r.start
                                                       for r in done.regions if r.full_frame), 3),
                  "voice_altered": plan.alter_voice,
                  "voice_pitch_ratio": options.voice_pitch if plan.alter_voice else None},
        consent={"pseudonym": plan.pseudonym, "face": plan.consent.face, "voice": plan.consent.voice,
                 "name": plan.consent.name, "languages": list(plan.consent.languages),
                 "platforms": list(plan.consent.platforms), "expires": plan.consent.expires or None},
        authorisation=auth.to_dict(),
        approvals=without_notes(tuple((provenance or {}).get("approvals", ()))),
        audit=without_notes(tuple((provenance or {}).get("audit", ()))),
        render={"profile": plan.profile, "platform": plan.platform,
                "burned_language": plan.language or None,
                "loudness_target_lufs": plan.loudness_target,
                "loudness_measured": job.loudness.as_dict() if job.loudness else None,
                "loudness_trim_db": job.loudness_trim,
                "options": options.settings(), "ffmpeg": _ffmpeg_version(),
                "fonts": sorted(p.name for p in FONTS_DIR.glob("*.ttf"))},
        output={"file": final.name, "sha256": done.sha256, "size": final.stat().st_size,
                "duration": round(done.probed.video_duration, 3), "width": done.probed.width,
                "height": done.probed.height, "fps": done.probed.fps,
                "video_codec": done.probed.video_codec, "audio_codec": done.probed.audio_codec},
        sidecars=[{"file": p.name, "sha256": sha256_of(p)} for p in sidecars],
        cards={k: {"lines": list(c.lines), "duration": c.duration}
               for k, c in (("title", plan.title_card), ("end", plan.end_card)) if c is not None},
    )
    manifest_path = write_json_atomic(export_dir / "manifest.json", manifest)
    if progress:
        progress(1.0)
    return ExportResult(export_dir, final, tuple(sidecars), manifest_path, done.sha256,
                        done.probed.video_duration, done.probed.width, done.probed.height, digest)


def render_preview(
    plan: PublicationPlan,
    source: str | Path,
    out_path: str | Path,
    progress: ProgressFn | None = None,
    options: PreviewOptions = PreviewOptions(),
    face_cache: Path | None = None,
    proxy: Path | None = None,
) -> PreviewResult:
    """Render `plan` as a preview to `out_path` (an .mp4 outside any exports folder): the same
    graph, cut, text, bleeps, blur, voice and loudness, in a smaller frame, encoded fast.
    `face_cache`: as for `render_export`; the preview detects faces on the source, so its samples
    are the export's, and an export after its preview runs no detection.
    `proxy`: the interview's review proxy (`pipeline.render.proxy_encode`, on the source's clock).
    Where it holds the preview's frame without upscaling, its pictures and sound are decoded
    instead of the source's (a fraction of the pixels); faces are still found on the source and
    every blurred box is scaled outwards onto the proxy's frame (`_onto_proxy`)."""
    out = Path(out_path).absolute()
    if "exports" in out.parts[:-1]:
        raise RenderError("a preview is never written into an exports folder")
    encode = replace(plan.options, preset=options.preset, crf=options.crf)
    done = _render(plan, source, out, encode, options.max_height, progress, lambda: None,
                   mkdir=out.parent, face_cache=face_cache, proxy=proxy)
    if progress:
        progress(1.0)
    return PreviewResult(out, plan_hash(plan), done.probed.video_duration, done.probed.width,
                         done.probed.height)


def _ffmpeg_version() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_version())
    except Exception:  # noqa: BLE001 - provenance nicety, never a reason to fail
        return "unknown"


def _render(plan: PublicationPlan, source: str | Path, final: Path, options: RenderOptions,
            max_height: int | None, progress: ProgressFn | None, before_commit: Callable[[], None],
            mkdir: Path, face_cache: Path | None = None, proxy: Path | None = None) -> _Rendered:
    """Probe and check the source, work out faces and cards, measure loudness, run the graph."""
    from pipeline.media import probe  # PyAV; after any authorisation check on purpose

    try:
        info = probe(str(source))
    except MediaError:
        # Its message names the file, and a file name can carry a real name: say it without.
        raise MediaError("the plan's source cannot be read as media") from None
    if info.sha256 != plan.source_sha256:
        raise RenderError("the source file is not the plan's source (sha256 differs)")
    video = info.video
    if video is None or not video.width or not video.height:
        raise RenderError("the source has no video stream to render")
    if plan.end > info.duration + 0.05:
        raise RenderError(f"out point {plan.end:.3f}s is past the source's end ({info.duration:.3f}s)")
    mkdir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(final)
    remove_stale_work_dirs(scratch_root())
    report = progress or (lambda _f: None)
    profile = options.profile_spec
    with tempfile.TemporaryDirectory(prefix=work_dir_prefix(), dir=scratch_root()) as work_dir:
        work = Path(work_dir)
        faces_share = FACES_SHARE if (plan.blur_faces or profile.kind != "fit") else 0.0
        start_render = faces_share + ANALYSIS_SHARE
        base = _base_job(plan, options, info, video.width, video.height, max_height)
        pictures = _proxy_job(base, info, proxy, max_height) if proxy is not None else None
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The loudness passes (ffmpeg, audio only) need nothing from face detection (Python):
            # on two cores they run side by side. They measure the file the render decodes.
            measuring = (pool.submit(_measure_loudness, pictures or base, options)
                         if options.normalise_loudness else None)
            job, samples, regions = _prepare(plan, base, work, lambda f: report(faces_share * f), face_cache)
            if pictures is not None:
                job = _onto_proxy(job, pictures)
            if measuring is not None:
                measured = measuring.result()
                job = replace(job, loudness=measured.loudness, loudness_trim=measured.loudness_trim)
        report(start_render)
        probed, sha = _render_video(job, final, lambda f: report(start_render + (1 - start_render) * f),
                                    before_commit)
    return _Rendered(job, probed, sha, samples, regions, info)


def _proxy_job(base: RenderJob, info: Any, proxy: Path, max_height: int | None) -> RenderJob | None:
    """`base` reading the review proxy instead of the source, or None where the proxy cannot
    stand in: unreadable, not the source's length, no picture, sound where the source has none
    (or none where it has), or a frame that would have to be upscaled to the preview's size."""
    from pipeline.render.proxy_encode import duration_tolerance, probe_source

    try:
        streams = probe_source(proxy)
        size = _picture_size(proxy)
    except MediaError:
        return None
    if size is None or abs(streams.duration - info.duration) > duration_tolerance(info.duration):
        return None
    if (streams.audio_index is not None) != (info.audio is not None):
        return None
    job = replace(base, source=str(Path(proxy).resolve()), src_width=size[0], src_height=size[1], scale=1.0)
    if max_height:
        job = replace(job, scale=min(1.0, max_height / job.out_size[1]))
    # The same frame as from the source, or the source it is.
    return job if job.out_size == base.out_size else None


def _picture_size(path: Path) -> tuple[int, int] | None:
    from pipeline.media import open_media

    container = open_media(path, "the review proxy")
    try:
        video = next(iter(container.streams.video), None)
        return (video.codec_context.width, video.codec_context.height) if video is not None else None
    finally:
        container.close()


def _onto_proxy(job: RenderJob, pictures: RenderJob) -> RenderJob:
    """`job` (worked out on the source's pixels) on the proxy's frame: every blurred box scaled
    outwards, so the preview hides at least what the export hides; the speaker's centre scaled."""
    import math

    kx, ky = pictures.src_width / job.src_width, pictures.src_height / job.src_height

    def scaled(b: BlurRegion) -> BlurRegion:
        x0, y0 = math.floor(b.x * kx), math.floor(b.y * ky)
        x1 = min(pictures.src_width, math.ceil((b.x + b.width) * kx))
        y1 = min(pictures.src_height, math.ceil((b.y + b.height) * ky))
        return replace(b, x=x0, y=y0, width=max(1, x1 - x0), height=max(1, y1 - y0))

    return replace(job, source=pictures.source, src_width=pictures.src_width, src_height=pictures.src_height,
                   scale=pictures.scale, blur=tuple(scaled(b) for b in job.blur),
                   boxes=tuple(scaled(b) for b in job.boxes),
                   speaker_x=None if job.speaker_x is None else job.speaker_x * kx,
                   speaker_y=None if job.speaker_y is None else job.speaker_y * ky)


def _measure_loudness(job: RenderJob, options: RenderOptions) -> RenderJob:
    from pipeline.render.loudness import normalisation, parse_ebur128_summary
    from pipeline.render.run import run_ffmpeg

    measured = parse_ebur128_summary(run_ffmpeg(plan_audio_analysis(job)))
    job = replace(job, loudness=measured)
    if normalisation(options, measured)[0] == "limit":
        # The limiter takes some loudness off the peaks: measure that and give it back.
        limited = parse_ebur128_summary(run_ffmpeg(plan_audio_analysis(job, check=True)))
        if limited.usable:
            job = replace(job, loudness_trim=round(options.loudness_target - limited.input_i, 2))
    return job


def _base_job(plan: PublicationPlan, options: RenderOptions, info: Any, width: int, height: int,
              max_height: int | None) -> RenderJob:
    """The job's source, cut, geometry, sound (bleeps, voice) and encoder settings."""
    from pipeline.render.run import ffmpeg_exe

    base = RenderJob(ffmpeg=ffmpeg_exe(), source=str(Path(str(info.path)).resolve()), start=plan.start,
                     end=min(plan.end, info.duration), src_width=width, src_height=height,
                     # The file's own rate (it is the plan's source: the sha256 matched).
                     fps=float(info.video.fps or plan.source_fps or 25.0), output="", options=options,
                     alter_voice=plan.alter_voice, bleeps=plan.bleeps)
    if max_height:
        base = replace(base, scale=min(1.0, max_height / base.out_size[1]))
    return base


def _prepare(
    plan: PublicationPlan, base: RenderJob, work: Path, progress: ProgressFn, face_cache: Path | None = None,
) -> tuple[RenderJob, tuple[Any, ...], tuple[BlurRegion, ...]]:
    """Faces, cards and the burned subtitles worked out; the RenderJob ready for planning."""
    from pipeline.render.faces import blur_regions, detect_faces, speaker_centre

    options = base.options
    profile = options.profile_spec
    width, height = base.src_width, base.src_height
    out_w, out_h = base.out_size

    samples: tuple[Any, ...] = ()
    if plan.blur_faces or profile.kind != "fit":
        rate = options.face_sample_fps if plan.blur_faces else CENTRE_SAMPLE_FPS
        if face_cache is not None:
            from pipeline.render.face_cache import cached_face_samples

            samples = cached_face_samples(face_cache, Path(base.source), plan.source_sha256, base.start,
                                          base.end, rate, progress)
        else:
            samples = tuple(detect_faces(base.source, base.start, base.end, rate, progress=progress))
    regions = tuple(blur_regions(samples, base.start, base.end, width, height, options.face_padding,
                                 options.face_fallback_full_frame)) if plan.blur_faces else ()
    centre = speaker_centre(samples)
    boxes = tuple(BlurRegion(b.x, b.y, b.width, b.height, b.start, b.end) for b in plan.blur_boxes)

    title = end = None
    if plan.title_card is not None:
        title = Card(str(make_card_image(plan.title_card, out_w, out_h, work / "title.png")),
                     plan.title_card.duration)
    if plan.end_card is not None:
        end = Card(str(make_card_image(plan.end_card, out_w, out_h, work / "end.png")),
                   plan.end_card.duration)

    ass_file = None
    if plan.language:
        track = plan.track(plan.language)
        if track is None:
            raise RenderError(f"the plan has no subtitles in {plan.language!r} to burn in")
        ass_file = work / "burn.ass"  # clip clock: cards carry no subtitles
        write_text_atomic(ass_file, format_ass(track.cues, profile.subtitles, out_w, out_h, plan.language))

    job = replace(
        base, ass_file=str(ass_file) if ass_file else None,
        fonts_dir=str(link_fonts(FONTS_DIR, work / "fonts")) if ass_file else None,
        blur=regions, boxes=boxes,
        speaker_x=centre[0] if centre else None, speaker_y=centre[1] if centre else None,
        title_card=title, end_card=end,
    )
    return job, samples, regions


def _render_video(job: RenderJob, final: Path, report: ProgressFn,
                  before_commit: Callable[[], None]) -> tuple[Any, str]:
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
        before_commit()
        commit(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return probed, sha


def _write_sidecars(plan: PublicationPlan, stem: str,
                    export_dir: Path) -> tuple[list[Path], dict[str, dict[str, Any]]]:
    offset = plan.title_card.duration if plan.title_card else 0.0
    paths: list[Path] = []
    info: dict[str, dict[str, Any]] = {}
    for track in plan.tracks:
        lang = track.language
        # Sidecars run on the file's clock: the title card comes first.
        cues = tuple(Cue(round(c.start + offset, 3), round(c.end + offset, 3), c.lines) for c in track.cues)
        srt = write_text_atomic(export_dir / f"{stem}.{lang}.srt", format_srt(cues))
        vtt = write_text_atomic(export_dir / f"{stem}.{lang}.vtt", format_vtt(cues))
        paths += [srt, vtt]
        info[lang] = {"text_sha256": cue_text_sha256(cues), "cues": len(cues),
                      "burned": lang == plan.language, "rtl": is_rtl_language(lang),
                      "files": [srt.name, vtt.name]}
    # Sidecars of an earlier render of this export in a language no longer in the plan go too.
    for old in (*export_dir.glob(f"{stem}.*.srt"), *export_dir.glob(f"{stem}.*.vtt")):
        if old not in paths:
            old.unlink(missing_ok=True)
    return paths, info
