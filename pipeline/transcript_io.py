"""Transcript ⇄ JSON, and the atomic write every finished artefact goes through.

Schema (times in seconds):
    {"schema": 1,
     "source": {"path", "sha256", "duration"},
     "language", "language_probability", "duration", "backend", "model",
     "segments": [{"start", "end", "text", "words": [{"start", "end", "text", "probability"}]}],
     "translation": {"language", "segments": [...]}}   # only when translated
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline.atomic import write_json_atomic

__all__ = ["write_json_atomic"]  # its one home is pipeline.atomic
from pipeline.errors import TranscriptionError
from pipeline.records import MediaInfo, Segment, Transcript, Translation, Word

SCHEMA_VERSION = 1


def _segment_to_dict(s: Segment) -> dict[str, Any]:
    return {"start": s.start, "end": s.end, "text": s.text,
            "words": [{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability}
                      for w in s.words]}


def transcript_to_dict(t: Transcript, media: MediaInfo | None = None) -> dict[str, Any]:
    """A JSON-ready dict of `t`; `media` fills the `source` block."""
    out: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if media is not None:
        out["source"] = {"path": media.path, "sha256": media.sha256, "duration": media.duration}
    out.update({
        "language": t.language,
        "language_probability": t.language_probability,
        "duration": t.duration,
        "backend": t.backend,
        "model": t.model,
        "segments": [_segment_to_dict(s) for s in t.segments],
    })
    if t.translation is not None:
        out["translation"] = {"language": t.translation.language,
                              "segments": [_segment_to_dict(s) for s in t.translation.segments]}
    return out


def _segments_from(items: Any) -> tuple[Segment, ...]:
    return tuple(
        Segment(start=float(s["start"]), end=float(s["end"]), text=str(s["text"]),
                words=tuple(Word(start=float(w["start"]), end=float(w["end"]), text=str(w["text"]),
                                 probability=float(w.get("probability", 0.0)))
                            for w in s.get("words", ())))
        for s in items)


def transcript_from_dict(d: dict[str, Any]) -> Transcript:
    """The Transcript a `transcript_to_dict` dict describes. Raises TranscriptionError if malformed."""
    try:
        translation = None
        if d.get("translation"):
            tr = d["translation"]
            translation = Translation(language=str(tr["language"]), segments=_segments_from(tr["segments"]))
        duration = d.get("duration", (d.get("source") or {}).get("duration", 0.0))
        return Transcript(language=str(d["language"]),
                          language_probability=float(d.get("language_probability", 0.0)),
                          duration=float(duration), segments=_segments_from(d["segments"]),
                          backend=str(d["backend"]), model=str(d["model"]), translation=translation)
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptionError(f"malformed transcript JSON ({type(exc).__name__}: {exc})") from None


def read_transcript(path: str | os.PathLike[str]) -> Transcript:
    """Load a transcript JSON file written by `write_json_atomic(transcript_to_dict(...))`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TranscriptionError(f"{os.fspath(path)}: cannot read transcript ({exc})") from None
    return transcript_from_dict(data)
