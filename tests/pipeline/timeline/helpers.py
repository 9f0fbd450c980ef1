"""Clips for timeline tests: neutral ids, fake paths (no media is read by the timeline core)."""

from __future__ import annotations

from pathlib import Path

from pipeline.publication import PlanTrack
from pipeline.records import Cue
from pipeline.timeline.records import (
    BlurRegion,
    ClipMarker,
    KnownMedia,
    MediaRef,
    RawSourceGrant,
    RedactionPlan,
    RenderedMedia,
    TimelineClip,
)

SOURCE_SHA = "a" * 64
PROTECTED = ("Yusuf Darwish", "Darwish")


def make_clip(
    tmp: Path, n: int = 1, in_s: float = 12.3, out_s: float = 20.5, fps: float = 25.0, rendered: bool = True
) -> TimelineClip:
    source = MediaRef(str(tmp / "media" / f"{SOURCE_SHA}.mp4"), SOURCE_SHA)
    render = (
        RenderedMedia(MediaRef(str(tmp / "exports" / f"c{n}v1.mp4"), f"{n:x}" * 64), out_s - in_s + 2.0, 2.0)
        if rendered
        else None
    )
    return TimelineClip(
        clip_id=f"c{n}v1",
        candidate_id=n,
        version=1,
        source=source,
        fps=fps,
        in_s=in_s,
        out_s=out_s,
        width=1920,
        height=1080,
        source_duration_s=600.0,
        rendered=render,
        markers=(
            ClipMarker("theme", "disillusionment", in_s + 0.5, in_s + 1.5),
            ClipMarker("risk", "pro_group_advocacy", in_s + 2.0, in_s + 3.0),
            ClipMarker("comment", "check the second sentence", in_s, in_s + 0.2),
        ),
        subtitles=(
            PlanTrack("en", (Cue(0.0, 2.0, ("I left because",)), Cue(2.1, 4.0, ("they lied.",)))),
            PlanTrack("ar", (Cue(0.0, 2.0, ("غادرت لأن",)),)),
        ),
        redaction=RedactionPlan(
            bleeps=((in_s + 1.0, in_s + 1.6),), blur_regions=(BlurRegion(in_s, in_s + 2.0, 10, 20, 100, 80),)
        ),
        plan_hash="f" * 64,
    )


def grant_for(clip: TimelineClip) -> RawSourceGrant:
    return RawSourceGrant(clip.candidate_id, clip.version, clip.source.sha256, granted_by="lead")


def known_source(clip: TimelineClip) -> KnownMedia:
    return KnownMedia(clip.source, 600.0, 0.0, names=(clip.clip_id.upper(),))
