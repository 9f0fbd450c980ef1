"""Writing timelines (OTIO, FCP 7 XML, FCPXML, EDL) and their subtitles, atomically."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pipeline.atomic import write_text_atomic
from pipeline.errors import TimelineError
from pipeline.records import Cue
from pipeline.subtitles import format_srt
from pipeline.timeline.build import build_timeline
from pipeline.timeline.neutral_names import check_no_protected, exact_rate
from pipeline.timeline.records import RawSourceGrant, TimelineClip

if TYPE_CHECKING:
    import opentimelineio as otio

FORMATS = ("otio", "fcp7", "fcpxml", "edl")
SUFFIXES = {"otio": ".otio", "fcp7": ".xml", "fcpxml": ".fcpxml", "edl": ".edl"}


def video_only(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy of `timeline` with its one video track and no audio (EDL and FCPXML writers need it).

    Raises TimelineError when there is more than one video track: flattening would drop clips.
    """
    import opentimelineio as otio

    videos = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if len(videos) != 1:
        raise TimelineError(f"an EDL/FCPXML sequence needs exactly one video track, found {len(videos)}")
    out = copy.deepcopy(timeline)
    for track in list(out.tracks):
        if track.kind != otio.schema.TrackKind.Video:
            out.tracks.remove(track)
    return out


def _sequence_rate(timeline: otio.schema.Timeline) -> float:
    rates = {round(exact_rate(c.source_range.start_time.rate), 4) for c in timeline.find_clips()}
    if len(rates) != 1:
        raise TimelineError(f"an EDL needs one frame rate for all clips, found {sorted(rates)}")
    return exact_rate(rates.pop())


def timeline_text(timeline: otio.schema.Timeline, fmt: str) -> str:
    """The timeline serialised in `fmt` ("otio", "fcp7", "fcpxml", "edl")."""
    import opentimelineio as otio

    if fmt == "otio":
        return str(otio.adapters.write_to_string(timeline, "otio_json"))
    if fmt == "fcp7":
        return str(otio.adapters.write_to_string(timeline, "fcp_xml"))
    if fmt == "fcpxml":
        from pipeline.timeline.fcpx import write_fcpxml_string

        return write_fcpxml_string(video_only(timeline))
    if fmt == "edl":
        flat = video_only(timeline)
        text = otio.adapters.write_to_string(flat, "cmx_3600", rate=_sequence_rate(flat), style="avid")
        return str(text)
    raise TimelineError(f"unknown timeline format {fmt!r}; use one of {', '.join(FORMATS)}")


def _names(timeline: otio.schema.Timeline) -> list[str]:
    """Every name and media path in the timeline, paths percent-decoded ("%20" hides no name)."""
    names = [timeline.name]
    for item in timeline.find_children():
        names.append(item.name)
        names.extend(m.name for m in getattr(item, "markers", ()))
        ref = getattr(item, "media_reference", None)
        if ref is not None:
            names.extend([ref.name, unquote(getattr(ref, "target_url", "") or "")])
    return names


def write_timeline(
    timeline: otio.schema.Timeline,
    path: str | os.PathLike[str],
    fmt: str,
    protected_terms: Iterable[str] = (),
) -> Path:
    """Write `timeline` as `fmt` to `path` atomically and return the path.

    Refuses (ProtectedNameError) when the file name, any name in the timeline or the written
    text carries one of `protected_terms` (a source file named after a person included).
    """
    terms = tuple(protected_terms)
    target = Path(path)
    check_no_protected([target.name], terms, "the timeline's file name")
    check_no_protected(_names(timeline), terms, "a name in the timeline")
    text = timeline_text(timeline, fmt)
    check_no_protected([text, unquote(text)], terms, f"the {fmt} timeline")
    return write_text_atomic(target, text)


def sequence_subtitles(clips: Sequence[TimelineClip]) -> dict[str, tuple[Cue, ...]]:
    """Per language, every clip's cues on the sequence's clock (clip k starts where k-1 ends).

    A clip without a language contributes nothing to it; cues are clipped to their clip.
    """
    out: dict[str, list[Cue]] = {}
    offset = 0.0
    for clip in clips:
        length = clip.out_s - clip.in_s
        for track in clip.subtitles:
            cues = out.setdefault(track.language, [])
            for cue in track.cues:
                start, end = max(0.0, cue.start), min(length, cue.end)
                if end > start:
                    cues.append(Cue(start + offset, end + offset, cue.lines))
        offset += length
    return {lang: tuple(cues) for lang, cues in out.items()}


def write_sequence_subtitles(
    clips: Sequence[TimelineClip], timeline_path: str | os.PathLike[str], protected_terms: Iterable[str] = ()
) -> tuple[Path, ...]:
    """Write `<timeline stem>.<lang>.srt` next to the timeline for each language; return the paths."""
    terms = tuple(protected_terms)
    base = Path(timeline_path)
    written = []
    for lang, cues in sorted(sequence_subtitles(clips).items()):
        text = format_srt(cues)
        check_no_protected([text], terms, f"the {lang} subtitles")
        written.append(write_text_atomic(base.with_name(f"{base.stem}.{lang}.srt"), text))
    return tuple(written)


def export_timeline(
    clips: Sequence[TimelineClip],
    out_dir: str | os.PathLike[str],
    stem: str,
    fmt: str,
    grants: Sequence[RawSourceGrant] = (),
    protected_terms: Iterable[str] = (),
) -> tuple[Path, ...]:
    """Build and write a sequence of `clips` as `<out_dir>/<stem><suffix>` plus its SRTs.

    `stem` is a neutral name (e.g. "c12v3" or "selection-20261203"); returns the timeline path
    first, then the subtitle paths.
    """
    if fmt not in FORMATS:
        raise TimelineError(f"unknown timeline format {fmt!r}; use one of {', '.join(FORMATS)}")
    terms = tuple(protected_terms)
    timeline = build_timeline(clips, stem, grants, video_only=fmt in ("edl", "fcpxml"))
    path = write_timeline(timeline, Path(out_dir) / f"{stem}{SUFFIXES[fmt]}", fmt, terms)
    return (path, *write_sequence_subtitles(clips, path, terms))
