"""Plain-JSON forms of pipeline records for JSON columns. Lossless for the fields we keep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.records import MediaInfo, Segment, StreamInfo, Transcript, Translation, Word


def words_to_json(words: tuple[Word, ...]) -> list[list[Any]]:
    """Compact [[start, end, text, probability], ...]; thousands of words per interview."""
    return [[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 4)] for w in words]


def words_from_json(data: list[Any] | None) -> tuple[Word, ...]:
    return tuple(Word(float(s), float(e), str(t), float(p)) for s, e, t, p in (data or ()))


def _segments_to_json(segments: tuple[Segment, ...]) -> list[dict[str, Any]]:
    return [
        {"start": s.start, "end": s.end, "text": s.text, "words": words_to_json(s.words)} for s in segments
    ]


def _segments_from_json(data: list[Mapping[str, Any]]) -> tuple[Segment, ...]:
    return tuple(
        Segment(float(s["start"]), float(s["end"]), str(s["text"]), words_from_json(s.get("words")))
        for s in data
    )


def transcript_to_json(t: Transcript) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": t.language,
        "language_probability": t.language_probability,
        "duration": t.duration,
        "backend": t.backend,
        "model": t.model,
        "segments": _segments_to_json(t.segments),
        "translation": None,
    }
    if t.translation is not None:
        body["translation"] = {
            "language": t.translation.language,
            "segments": _segments_to_json(t.translation.segments),
        }
    return body


def transcript_from_json(d: Mapping[str, Any]) -> Transcript:
    tr = d.get("translation")
    return Transcript(
        language=str(d["language"]),
        language_probability=float(d["language_probability"]),
        duration=float(d["duration"]),
        segments=_segments_from_json(d["segments"]),
        backend=str(d["backend"]),
        model=str(d["model"]),
        translation=(Translation(str(tr["language"]), _segments_from_json(tr["segments"])) if tr else None),
    )


def media_to_json(m: MediaInfo) -> dict[str, Any]:
    return {
        "path": m.path,
        "sha256": m.sha256,
        "size": m.size,
        "container": m.container,
        "duration": m.duration,
        "streams": [
            {
                "index": s.index,
                "kind": s.kind,
                "codec": s.codec,
                "duration": s.duration,
                "sample_rate": s.sample_rate,
                "channels": s.channels,
                "width": s.width,
                "height": s.height,
                "fps": s.fps,
            }
            for s in m.streams
        ],
    }


def media_from_json(d: Mapping[str, Any]) -> MediaInfo:
    return MediaInfo(
        path=str(d["path"]),
        sha256=str(d["sha256"]),
        size=int(d["size"]),
        container=str(d["container"]),
        duration=float(d["duration"]),
        streams=tuple(StreamInfo(**s) for s in d.get("streams", ())),
    )
