"""Cue tracks to and from plain dicts and JSON, for the store and the page.

Stored shape (version 1):

    {"version": 1, "language": "en", "fps": "30000/1001", "start": 12.012, "end": 39.039,
     "cues": [{"id": "w31", "start": 12.012, "end": 14.381, "lines": ["...", "..."],
               "edited": false, "words": [31, 38], "speakers": ["A"]}, ...]}

Reading trusts nothing: every field is type-checked (a bool is not a number), times must be
finite, on the track's frame grid, inside [start, end], in order and apart; ids unique; sizes
bounded. Any violation is one `CueTrackError` naming the cue and the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from pipeline.cue_track import CueTrack, CueTrackError, TimedCue
from pipeline.frames import FrameRateError, fps_text, frame_rate, on_grid

FORMAT_VERSION = 1
MAX_CUES = 20_000
MAX_LINES = 6
MAX_LINE_CHARS = 500
MAX_JSON_BYTES = 8 << 20
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_LANGUAGE = re.compile(r"^[A-Za-z0-9-]{0,35}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EPS = 1e-6


def track_to_dict(track: CueTrack) -> dict[str, Any]:
    """The track as plain JSON-ready values."""
    return {
        "version": FORMAT_VERSION,
        "language": track.language,
        "fps": track.fps,
        "start": track.start,
        "end": track.end,
        "cues": [
            {"id": c.id, "start": c.start, "end": c.end, "lines": list(c.lines), "edited": c.edited,
             "words": list(c.words), "speakers": list(c.speakers)}
            for c in track.cues
        ],
    }


def track_to_json(track: CueTrack) -> str:
    return json.dumps(track_to_dict(track), ensure_ascii=False, separators=(",", ":"))


def track_from_json(text: str | bytes) -> CueTrack:
    """A track from stored JSON; CueTrackError for malformed or invalid data."""
    if len(text) > MAX_JSON_BYTES:
        raise CueTrackError(f"cue track JSON is {len(text)} bytes, at most {MAX_JSON_BYTES}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CueTrackError(f"cue track is not valid JSON: {exc}") from None
    return track_from_dict(data)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CueTrackError(f"{what} must be a finite number, not {value!r:.40}")
    return float(value)


def _string(value: Any, what: str, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise CueTrackError(f"{what} must match {pattern.pattern}, not {value!r:.40}")
    return value


def track_from_dict(data: Any) -> CueTrack:
    """A track from its stored dict, fully validated (see the module docstring)."""
    if not isinstance(data, Mapping):
        raise CueTrackError(f"cue track must be an object, not {type(data).__name__}")
    if data.get("version") != FORMAT_VERSION:
        raise CueTrackError(f"cue track version must be {FORMAT_VERSION}, not {data.get('version')!r:.20}")
    language = _string(data.get("language", ""), "track language", _LANGUAGE)
    fps = data.get("fps")
    if isinstance(fps, bool) or not isinstance(fps, str | int | float):
        raise CueTrackError(f"track fps must be a rate such as \"25\" or \"30000/1001\", not {fps!r:.40}")
    try:
        rate = frame_rate(fps)
    except FrameRateError as exc:
        raise CueTrackError(f"track fps: {exc}") from None
    start, end = _number(data.get("start"), "track start"), _number(data.get("end"), "track end")
    _check_span(start, end, rate, "track span", "track")
    raw = data.get("cues")
    if not isinstance(raw, list):
        raise CueTrackError("track cues must be a list")
    if len(raw) > MAX_CUES:
        raise CueTrackError(f"track has {len(raw)} cues, at most {MAX_CUES}")
    cues: list[TimedCue] = []
    seen: set[str] = set()
    for k, item in enumerate(raw):
        cue = _cue_from_dict(item, k, rate)
        where = f"cue {k} ({cue.id})"
        if cue.id in seen:
            raise CueTrackError(f"{where}: id is used twice")
        seen.add(cue.id)
        if cue.start < start - _EPS or cue.end > end + _EPS:
            raise CueTrackError(f"{where}: {cue.start}-{cue.end} s lies outside the track {start}-{end} s")
        if cues and cue.start < cues[-1].end + _EPS:
            raise CueTrackError(f"{where}: overlaps or does not follow cue {cues[-1].id}")
        cues.append(cue)
    return CueTrack(language, start, end, fps_text(rate), tuple(cues))


def _check_span(start: float, end: float, rate: Any, span: str, point: str) -> None:
    """`start` < `end`, both on the frame grid; errors begin with `span` (the pair) or `point`."""
    if not 0 <= start < end:
        raise CueTrackError(f"{span} {start}-{end} s must satisfy 0 <= start < end")
    for t, name in ((start, "start"), (end, "end")):
        if not on_grid(t, rate):
            raise CueTrackError(f"{point} {name} {t} s is not on the {fps_text(rate)} fps frame grid")


def _cue_from_dict(item: Any, k: int, rate: Any) -> TimedCue:
    if not isinstance(item, Mapping):
        raise CueTrackError(f"cue {k} must be an object, not {type(item).__name__}")
    cue_id = _string(item.get("id"), f"cue {k} id", _ID)
    where = f"cue {k} ({cue_id})"
    start, end = _number(item.get("start"), f"{where} start"), _number(item.get("end"), f"{where} end")
    _check_span(start, end, rate, f"{where}: times", f"{where}:")
    lines = item.get("lines")
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise CueTrackError(f"{where}: lines must be a list of 1 to {MAX_LINES} strings")
    for line in lines:
        bad = not isinstance(line, str) or not line.strip() or len(line) > MAX_LINE_CHARS
        if bad or _CONTROL.search(line):
            raise CueTrackError(f"{where}: each line must be non-empty text of at most {MAX_LINE_CHARS} "
                                "characters without control characters")
    edited = item.get("edited", False)
    if not isinstance(edited, bool):
        raise CueTrackError(f"{where}: edited must be true or false")
    words = item.get("words", [0, 0])
    if (not isinstance(words, list) or len(words) != 2
            or any(isinstance(w, bool) or not isinstance(w, int) for w in words)
            or not 0 <= words[0] <= words[1]):
        raise CueTrackError(f"{where}: words must be [first, after] word indices with 0 <= first <= after")
    speakers = item.get("speakers", [])
    if not isinstance(speakers, list) or len(speakers) > 8 or any(
            not isinstance(s, str) or not s or len(s) > 64 or _CONTROL.search(s) for s in speakers):
        raise CueTrackError(f"{where}: speakers must be a list of short speaker labels")
    return TimedCue(cue_id, start, end, tuple(lines), edited, (words[0], words[1]), tuple(speakers))
