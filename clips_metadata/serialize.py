"""Plain-JSON forms of pipeline records for JSON columns. Lossless for the fields we keep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.records import MediaInfo, StreamInfo, Transcript
from pipeline.transcript_io import transcript_from_dict, transcript_to_dict, words_from_rows, words_to_rows

# The one transcript serialiser is pipeline.transcript_io; the store keeps its compact word form.
words_to_json = words_to_rows
words_from_json = words_from_rows


def transcript_to_json(t: Transcript) -> dict[str, Any]:
    return transcript_to_dict(t, compact_words=True)


transcript_from_json = transcript_from_dict


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
