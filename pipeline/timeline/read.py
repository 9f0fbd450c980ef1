"""Reading an edited timeline back (OTIO, FCP 7 XML, EDL) as ranges of one known source.

Everything an editing suite sends back is untrusted input: XML goes through defusedxml before
the adapter sees it, and every refusal names the file's line (and element or event) at fault.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pipeline.errors import TimelineRefused
from pipeline.timeline.build import META_KEY
from pipeline.timeline.neutral_names import exact_rate, reel_names
from pipeline.timeline.records import ImportedCut, KnownMedia, TimelineClip

READ_FORMATS = ("otio", "fcp7", "edl")
MAX_BYTES = 20 * 1024 * 1024  # an edit list of one clip is kilobytes; more is not a recut
_BY_SUFFIX = {".otio": "otio", ".json": "otio", ".xml": "fcp7", ".edl": "edl"}
_EDL_EVENT = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)(.*)$")


@dataclass(frozen=True, slots=True)
class _Located:
    """One clip or transition of the parsed timeline and where the file says it."""

    item: Any
    where: str


def _refuse(name: str, where: str, why: str) -> TimelineRefused:
    why = " ".join(why.split())[:300]  # one line, even when an adapter's message is a page
    return TimelineRefused(f"{name}: {where}: {why}" if where else f"{name}: {why}")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _occurrences(text: str, pattern: str) -> list[int]:
    return [_line_of(text, m.start()) for m in re.finditer(pattern, text)]


def _detect(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = _BY_SUFFIX.get(path.suffix.lower())
    if fmt not in READ_FORMATS:
        raise TimelineRefused(
            f"{path.name}: cannot import {fmt or path.suffix or 'this file'}; use OTIO, FCP 7 XML or EDL"
        )
    return fmt


def _load_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size == 0:
            raise TimelineRefused(f"{path.name}: the file is empty")
        if size > MAX_BYTES:
            raise TimelineRefused(f"{path.name}: {size} bytes is too large for an edited timeline")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TimelineRefused(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise TimelineRefused(f"{path.name}: cannot read ({exc.strerror or exc})") from exc


def _check_xml(name: str, text: str) -> None:
    """Parse with defusedxml first: entity bombs and external entities never reach the adapter."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as safe_et
    from defusedxml import DefusedXmlException

    try:
        safe_et.fromstring(text)
    except DefusedXmlException as exc:
        lines = _occurrences(text, r"<!ENTITY|<!DOCTYPE")
        where = f"line {lines[0]}" if lines else ""
        raise _refuse(name, where, f"hostile XML refused ({type(exc).__name__})") from exc
    except ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise _refuse(name, f"line {line}, column {col}", f"malformed XML ({exc.msg})") from exc


def _parse(name: str, text: str, fmt: str, fps: float | None) -> tuple[Any, list[_Located]]:
    import opentimelineio as otio

    if fmt == "otio":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise _refuse(name, where, "malformed OTIO JSON") from exc
        if not isinstance(data, dict) or not str(data.get("OTIO_SCHEMA", "")).startswith("Timeline."):
            raise _refuse(name, "line 1", "not an OTIO timeline")
        adapter, kwargs = "otio_json", {}
    elif fmt == "fcp7":
        _check_xml(name, text)
        adapter, kwargs = "fcp_xml", {}
    else:
        if fps is None:
            raise _refuse(name, "", "reading an EDL needs the source's frame rate")
        _check_edl_lines(name, text)
        adapter, kwargs = "cmx_3600", {"rate": exact_rate(fps)}
    try:
        timeline = otio.adapters.read_from_string(text, adapter, **kwargs)
    except Exception as exc:  # adapters raise anything from KeyError to their own OTIOError
        raise _refuse(name, _line_hint(text, str(exc)), f"cannot parse as {fmt} ({exc})") from exc
    if isinstance(timeline, otio.schema.SerializableCollection):
        timelines = list(timeline.find_children(descended_from_type=otio.schema.Timeline))
        if len(timelines) != 1:
            raise _refuse(name, "", f"expected one sequence, found {len(timelines)}")
        timeline = timelines[0]
    if not isinstance(timeline, otio.schema.Timeline):
        raise _refuse(name, "", "no timeline found")
    return timeline, _locate(text, fmt, timeline)


def _line_hint(text: str, message: str) -> str:
    """The line an adapter's message points at: an EDL event it names ("clip 003"), or its
    first quoted fragment found in the text."""
    event = re.search(r"\bclip (\d+)\b", message)
    if event:
        for number, line in enumerate(text.splitlines(), 1):
            match = _EDL_EVENT.match(line)
            if match and match.group(1) == event.group(1):
                return f"line {number} (event {event.group(1)})"
    for fragment in re.findall(r"'([^'\n]{4,})'|\"([^\"\n]{4,})\"", message):
        frag = fragment[0] or fragment[1]
        index = text.find(frag)
        if index >= 0:
            return f"line {_line_of(text, index)}"
    return ""


_TIMECODE = re.compile(r"^\d{2}:\d{2}:\d{2}[:;.]\d{2}$")
_EDL_HEADERS = ("TITLE:", "FCM:", "*", ">>>", "AUD", "SPLIT:")


def _check_edl_lines(name: str, text: str) -> None:
    """Check every line before the adapter does, so a refusal can name it: events must be
    cuts with four timecodes; dissolves, wipes, keys and motion effects (M2) are refused."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.upper().startswith(_EDL_HEADERS):
            continue
        if line.upper().startswith("M2"):
            raise _refuse(name, f"line {number}", "unsupported motion effect (M2 speed change)")
        match = _EDL_EVENT.match(line)
        if not match:
            raise _refuse(name, f"line {number}", "unrecognised EDL line")
        where = f"line {number} (event {match.group(1)})"
        if match.group(4).upper() != "C":
            raise _refuse(name, where, f"unsupported transition {match.group(4)!r}; only cuts can come back")
        timecodes = match.group(5).split()
        if len(timecodes) != 4 or not all(_TIMECODE.match(tc) for tc in timecodes):
            raise _refuse(name, where, "malformed event: expected four timecodes HH:MM:SS:FF")


def _locate(text: str, fmt: str, timeline: Any) -> list[_Located]:
    """Each clip and transition in document order, paired with its line in the file."""
    import opentimelineio as otio

    kinds = otio.schema.Clip | otio.schema.Transition
    items = [i for i in timeline.tracks.find_children() if isinstance(i, kinds)]
    clips = [i for i in items if isinstance(i, otio.schema.Clip)]
    transitions = [i for i in items if isinstance(i, otio.schema.Transition)]
    if fmt == "otio":
        clip_lines = _occurrences(text, r'"OTIO_SCHEMA"\s*:\s*"Clip\.')
        trans_lines = _occurrences(text, r'"OTIO_SCHEMA"\s*:\s*"Transition\.')
        label = "clip"
    elif fmt == "fcp7":  # lines for the elements the adapter reads, in document order
        clip_lines = _occurrences(text, r"<clipitem\b")
        trans_lines = _occurrences(text, r"<transitionitem\b")
        label = "xmeml/sequence/media/*/track/clipitem"
    else:
        clip_lines = [
            n for n, line in enumerate(text.splitlines(), 1)
            if (m := _EDL_EVENT.match(line)) and m.group(2).upper() not in ("BL", "BLACK")
        ]
        trans_lines = []
        label = "event"
    out = []
    for k, clip in enumerate(clips):
        where = f"line {clip_lines[k]} ({label} {k + 1})" if k < len(clip_lines) else f"{label} {k + 1}"
        out.append(_Located(clip, where))
    for k, trans in enumerate(transitions):
        where = f"transition {k + 1}"
        if k < len(trans_lines):
            where = f"line {trans_lines[k]} ({where})"
        out.append(_Located(trans, where))
    return out


def _file_path(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return os.path.normpath(unquote(parsed.path) if parsed.scheme else url)
    return url


def _match(clip: Any, known: Sequence[KnownMedia]) -> KnownMedia | None:
    """The known file a clip points at: by sha256 in metadata, by path, or (EDL) by reel/name."""
    ref = clip.media_reference
    shas = {
        str(clip.metadata.get(META_KEY, {}).get("media_sha256", "")),
        str(ref.metadata.get(META_KEY, {}).get("sha256", "")) if ref is not None else "",
    } - {""}
    url = getattr(ref, "target_url", "") or ""
    names = {clip.name, str(clip.metadata.get("cmx_3600", {}).get("reel", ""))}
    if ref is not None:
        names.add(ref.name)
    names -= {"", "AX"}
    for media in known:
        if media.media.sha256 in shas:
            return media
    for media in known:
        if url and _file_path(url) == os.path.normpath(os.path.abspath(media.media.path)):
            return media
    if url:
        return None  # a path to some other file is other media, whatever its name says
    for media in known:
        if names & set(media.names):
            return media
    return None


def known_media(clip: TimelineClip) -> tuple[KnownMedia, tuple[KnownMedia, ...]]:
    """The `source` and `also` arguments of `read_timeline` for a recut of `clip`'s export.

    The source answers to the clip id and reel an EDL of this clip alone would use; the
    rendered export (if any) maps back to source time through its offset.
    """
    if clip.source_duration_s is None:
        raise TimelineRefused(f"clip {clip.clip_id}: the source's duration is needed to check ranges")
    names = (clip.clip_id, clip.clip_id.upper(), reel_names([clip.clip_id], [clip.source.sha256])[0])
    source = KnownMedia(clip.source, clip.source_duration_s, 0.0, names)
    if clip.rendered is None:
        return source, ()
    offset = clip.in_s - clip.rendered.content_start_s
    return source, (KnownMedia(clip.rendered.media, clip.rendered.duration_s, offset),)


def read_timeline(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    source: KnownMedia,
    also: Sequence[KnownMedia] = (),
    fps: float | None = None,
) -> ImportedCut:
    """The cut an edited timeline makes of `source`, as ordered source ranges (one clip with cuts).

    `also` lists other files that stand for the same source (the rendered clip, with its offset);
    `fps` is needed for EDL timecode. Raises TimelineRefused, naming the line, for malformed or
    hostile files, other media, transitions, effects, layered video, ranges outside the media or
    the source, and reordered ranges.
    """
    file = Path(path)
    fmt = _detect(file, fmt)
    name = file.name
    text = _load_text(file)
    timeline, located = _parse(name, text, fmt, fps)
    import opentimelineio as otio

    for loc in located:
        if isinstance(loc.item, otio.schema.Transition):
            kind = loc.item.transition_type or "unknown"
            raise _refuse(name, loc.where, f"unsupported transition ({kind})")
    nested = [t for t in timeline.tracks.find_children(descended_from_type=otio.schema.Stack)]
    if nested:
        raise _refuse(name, "", "nested sequences (compound clips) are not supported")
    videos = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video and t.find_clips()]
    if len(videos) > 1:
        raise _refuse(name, "", f"{len(videos)} video tracks with clips: layered video is not supported")
    known = (source, *also)
    spans: dict[int, list[tuple[float, float]]] = {}  # per track, in record order
    for loc in located:
        media = _checked_media(name, loc, known)
        start, end, tol = _source_span(name, loc, media, source)
        track = spans.setdefault(id(loc.item.parent()), [])
        if track and start < track[-1][1] - tol:
            raise _refuse(name, loc.where, "range goes back in the source: reordering is not a recut")
        track.append((start, end))
    if not spans:
        raise _refuse(name, "", "the timeline has no clips")
    main = next(id(t) for t in (videos or list(timeline.tracks)) if id(t) in spans)
    ranges = _merge(spans[main])
    if any(not _close(_merge(other), ranges) for other in spans.values()):
        raise _refuse(name, "", "audio and video are cut differently (split edits are not supported)")
    rounded = tuple((round(a, 6), round(b, 6)) for a, b in ranges)
    return ImportedCut(source_sha256=source.media.sha256, ranges=rounded, fmt=fmt)


def _checked_media(name: str, loc: _Located, known: Sequence[KnownMedia]) -> KnownMedia:
    """The known file a clip uses, or a refusal: effects, generators, offline or other media."""
    import opentimelineio as otio

    clip = loc.item
    if clip.effects:
        kinds = ", ".join(sorted({e.name or e.effect_name or type(e).__name__ for e in clip.effects}))
        raise _refuse(name, loc.where, f"unsupported effect ({kinds})")
    if isinstance(clip.media_reference, otio.schema.GeneratorReference):
        raise _refuse(name, loc.where, "generated media (title, colour, bars) is not supported")
    media = _match(clip, known)
    if media is None and (clip.media_reference is None or clip.media_reference.is_missing_reference):
        raise _refuse(name, loc.where, "clip without known media (offline clip or unknown reel)")
    if media is None:  # the other file's name is not repeated: it may name a person
        raise _refuse(name, loc.where, "other media: only the candidate's source or export may return")
    return media


def _source_span(
    name: str, loc: _Located, media: KnownMedia, source: KnownMedia
) -> tuple[float, float, float]:
    """(start, end, half a frame) of a clip in source seconds, checked against media and source."""
    try:
        rng = loc.item.source_range or loc.item.available_range()
    except Exception as exc:  # no range on the clip nor on its media: nothing to cut
        raise _refuse(name, loc.where, "clip without a time range") from exc
    rate = rng.start_time.rate
    if not (math.isfinite(rate) and rate > 0 and rng.duration.rate == rate):
        raise _refuse(name, loc.where, f"invalid frame rate {rate!r}")
    start = rng.start_time.to_seconds()
    end = rng.end_time_exclusive().to_seconds()
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise _refuse(name, loc.where, "empty or invalid time range")
    tol = 0.5 / rate
    if start < -tol or end > media.duration_s + tol:
        limit = f"0-{media.duration_s:.3f} s"
        raise _refuse(name, loc.where, f"range {start:.3f}-{end:.3f} s is outside the media ({limit})")
    start, end = start + media.to_source_s, end + media.to_source_s
    if start < -tol or end > source.duration_s + tol:
        limit = f"0-{source.duration_s:.3f} s"
        raise _refuse(name, loc.where, f"range {start:.3f}-{end:.3f} s is outside the source ({limit})")
    return max(0.0, start), min(source.duration_s, end), tol


def _merge(ranges: list[tuple[float, float]], tol: float = 0.5 / 60) -> list[tuple[float, float]]:
    """Adjacent ranges (end meets start within `tol`) joined: a razor cut without a gap is no cut."""
    out: list[tuple[float, float]] = []
    for start, end in ranges:
        if out and abs(start - out[-1][1]) <= tol:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _close(a: list[tuple[float, float]], b: list[tuple[float, float]], tol: float = 0.05) -> bool:
    return len(a) == len(b) and all(
        abs(x[0] - y[0]) <= tol and abs(x[1] - y[1]) <= tol for x, y in zip(a, b, strict=True)
    )
