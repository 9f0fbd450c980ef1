"""Pure construction of OTIO timelines from approved clips (no file I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.errors import TimelineError, TimelineRefused
from pipeline.timeline.neutral_names import exact_rate, reel_names
from pipeline.timeline.records import MediaChoice, RawSourceGrant, TimelineClip

if TYPE_CHECKING:
    import opentimelineio as otio

META_KEY = "counterclips"


def select_media(clip: TimelineClip, grant: RawSourceGrant | None = None) -> MediaChoice:
    """The media the timeline may point at: the redacted render, or the raw source under a grant.

    The raw source would hand out what the flattened export hides (unbleeped audio, unblurred
    faces), so it needs a grant for exactly this candidate version and source. Raises
    TimelineRefused otherwise, or when there is no rendered export to point at.
    """
    if grant is not None:
        if (grant.candidate_id, grant.version, grant.source_sha256) != (
            clip.candidate_id,
            clip.version,
            clip.source.sha256,
        ):
            raise TimelineRefused(
                f"raw-source grant is for candidate {grant.candidate_id} v{grant.version}, "
                f"not candidate {clip.candidate_id} v{clip.version} on this source"
            )
        return MediaChoice(
            clip.source, clip.in_s, clip.out_s, raw=True, to_source_s=0.0,
            fps=clip.fps, width=clip.width, height=clip.height,
        )
    if clip.rendered is None:
        raise TimelineRefused(
            f"candidate {clip.candidate_id} v{clip.version} has no rendered export to reference; "
            "export it first (the raw source needs a separate authorisation)"
        )
    start = clip.rendered.content_start_s
    end = start + (clip.out_s - clip.in_s)
    if end > clip.rendered.duration_s + 1e-3:
        raise TimelineError(
            f"rendered export of candidate {clip.candidate_id} is shorter ({clip.rendered.duration_s:.3f} s) "
            f"than its cut ({end:.3f} s)"
        )
    r = clip.rendered
    return MediaChoice(
        r.media, start, end, raw=False, to_source_s=clip.in_s - start,
        fps=r.fps or clip.fps, width=r.width or clip.width, height=r.height or clip.height,
    )


def _validate(clip: TimelineClip) -> None:
    if not clip.clip_id:
        raise TimelineError(f"candidate {clip.candidate_id} has no neutral clip id")
    if not (0 <= clip.in_s < clip.out_s):
        raise TimelineError(f"clip {clip.clip_id}: in {clip.in_s} s must be ≥ 0 and < out {clip.out_s} s")
    if clip.source_duration_s is not None and clip.out_s > clip.source_duration_s + 1e-3:
        raise TimelineError(f"clip {clip.clip_id}: out {clip.out_s} s is past the source's end")


def frames(seconds: float, rate: float) -> int:
    """Whole frames at `rate` nearest to `seconds` (the cut snaps to the source's frame grid)."""
    return round(seconds * rate)


def _range(otio_mod: Any, start_s: float, end_s: float, rate: float) -> otio.opentime.TimeRange:
    start = frames(start_s, rate)
    dur = max(1, frames(end_s, rate) - start)
    return otio_mod.opentime.TimeRange(
        otio_mod.opentime.RationalTime(start, rate), otio_mod.opentime.RationalTime(dur, rate)
    )


def marker_labels(clip: TimelineClip) -> list[tuple[str, str, float, float]]:
    """(name, colour, start, end) of every marker, source seconds, redactions included."""
    colours = {"theme": "GREEN", "risk": "RED", "comment": "YELLOW", "bleep": "ORANGE", "blur": "PURPLE"}
    out = [
        (f"{m.kind}: {m.label}" if m.label else m.kind, colours.get(m.kind, "BLUE"), m.start_s, m.end_s)
        for m in clip.markers
    ]
    for start, end in clip.redaction.bleeps:
        out.append((f"bleep {start:.2f}-{end:.2f}", colours["bleep"], start, end))
    for region in clip.redaction.blur_regions:
        label = f"blur region {region.w}x{region.h}+{region.x}+{region.y}" if region.w else "blur region"
        out.append((label, colours["blur"], region.start_s, region.end_s))
    if clip.redaction.blur_faces:
        out.append(("blur faces", colours["blur"], clip.in_s, clip.out_s))
    return out


def clip_metadata(clip: TimelineClip, choice: MediaChoice) -> dict[str, Any]:
    """What the OTIO clip carries about the approval: ids, plan hash, source hash and redactions."""
    red = clip.redaction
    return {
        "candidate_id": clip.candidate_id,
        "version": clip.version,
        "plan_hash": clip.plan_hash,
        "raw_source": choice.raw,
        "source_sha256": clip.source.sha256,
        "media_sha256": choice.media.sha256,
        "source_in_s": clip.in_s,
        "source_out_s": clip.out_s,
        "to_source_s": choice.to_source_s,
        "redaction": {
            "bleeps": [[a, b] for a, b in red.bleeps],
            "blur_regions": [
                {"start_s": r.start_s, "end_s": r.end_s, "x": r.x, "y": r.y, "w": r.w, "h": r.h}
                for r in red.blur_regions
            ],
            "blur_faces": red.blur_faces,
            "alter_voice": red.alter_voice,
            "applied_in_media": not choice.raw,
        },
        "subtitle_languages": [s.language for s in clip.subtitles],
    }


def _clip(
    otio_mod: Any, clip: TimelineClip, choice: MediaChoice, reel: str, markers: bool = True
) -> otio.schema.Clip:
    rate = exact_rate(choice.fps)
    # the whole file's length, so a suite can trim outwards (within what the media holds)
    if choice.raw:
        available_end = clip.source_duration_s or choice.out_s
    else:
        available_end = clip.rendered.duration_s if clip.rendered else choice.out_s
    ref = otio_mod.schema.ExternalReference(
        target_url=_file_url(choice.media.path),
        available_range=_range(otio_mod, 0.0, max(available_end, choice.out_s), rate),
    )
    ref.name = clip.clip_id
    ref.metadata[META_KEY] = {"sha256": choice.media.sha256, "width": choice.width, "height": choice.height}
    out = otio_mod.schema.Clip(
        name=clip.clip_id, media_reference=ref, source_range=_range(otio_mod, choice.in_s, choice.out_s, rate)
    )
    out.metadata[META_KEY] = clip_metadata(clip, choice)
    out.metadata["cmx_3600"] = {"reel": reel}
    for name, colour, start, end in marker_labels(clip) if markers else ():
        lo, hi = max(start, clip.in_s), min(end, clip.out_s)
        if hi < lo:
            continue  # outside the cut: nothing to mark
        marker = otio_mod.schema.Marker(
            name=name,
            marked_range=_range(otio_mod, lo - choice.to_source_s, max(hi, lo) - choice.to_source_s, rate),
            color=colour,
        )
        marker.metadata[META_KEY] = {"start_s": start, "end_s": end}
        out.markers.append(marker)
    return out


def _file_url(path: str) -> str:
    from pathlib import Path

    return Path(path).absolute().as_uri() if "://" not in path else path


def build_timeline(
    clips: Sequence[TimelineClip],
    sequence_name: str,
    grants: Sequence[RawSourceGrant] = (),
    *,
    video_only: bool = False,
) -> otio.schema.Timeline:
    """A timeline of `clips` in order: one video track (and a matching audio track unless
    `video_only`, which EDL needs). Each clip points at `select_media(clip, grant)`; its exact cut
    is frames of the source's rate; themes, risks, comments and redactions are markers, and the
    redaction plan is in `metadata["counterclips"]`. `sequence_name` must be neutral.
    """
    import opentimelineio as otio

    if not clips:
        raise TimelineError("a timeline needs at least one clip")
    by_key = {(g.candidate_id, g.version): g for g in grants}
    for clip in clips:
        _validate(clip)
    reels = reel_names([c.clip_id for c in clips], [c.source.sha256 for c in clips])
    timeline = otio.schema.Timeline(name=sequence_name)
    timeline.metadata[META_KEY] = {"clips": [c.clip_id for c in clips]}
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    for clip, reel in zip(clips, reels, strict=True):
        choice = select_media(clip, by_key.get((clip.candidate_id, clip.version)))
        video.append(_clip(otio, clip, choice, reel))
        if not video_only:
            audio.append(_clip(otio, clip, choice, reel, markers=False))  # once per clip is enough
    timeline.tracks.append(video)
    if not video_only:
        timeline.tracks.append(audio)
    rate = exact_rate(video[0].source_range.start_time.rate)
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    return timeline
