"""Transcript ⇄ JSON, and the atomic write every finished artefact goes through.

Schema (times in seconds):
    {"schema": 1,
     "source": {"path", "sha256", "duration"},
     "language", "language_probability", "duration", "backend", "model", "threads",
     "segments": [{"start", "end", "text", "speaker",
                   "words": [{"start", "end", "text", "probability", "speaker"}]}],
     "translation": {"language", "segments": [...]}}   # only when translated
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import TranscriptionError
from pipeline.records import MediaInfo, Segment, Transcript, Translation, Word

SCHEMA_VERSION = 1


def words_to_rows(words: tuple[Word, ...]) -> list[list[Any]]:
    """Compact [[start, end, text, probability, speaker], ...] (the store keeps thousands per
    interview); rows written before speakers existed have four items and read back speakerless."""
    return [[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 4), w.speaker] for w in words]


def row_speaker(rows: Any) -> str | None:
    """The speaker of compact word rows (`words_to_rows`): the first row's that has one."""
    return next((str(r[4]) for r in rows if len(r) > 4 and r[4] is not None), None)


def words_from_rows(data: list[Any] | None) -> tuple[Word, ...]:
    return tuple(_word_from(row) for row in (data or ()))


def _speaker(value: Any) -> str | None:
    return None if value is None else str(value)


def _words_to(words: tuple[Word, ...], compact: bool) -> list[Any]:
    if compact:
        return words_to_rows(words)
    return [{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability,
             "speaker": w.speaker} for w in words]


def _segment_to_dict(s: Segment, compact: bool) -> dict[str, Any]:
    return {"start": s.start, "end": s.end, "text": s.text, "speaker": s.speaker,
            "words": _words_to(s.words, compact)}


def transcript_to_dict(t: Transcript, media: MediaInfo | None = None, *,
                       compact_words: bool = False) -> dict[str, Any]:
    """A JSON-ready dict of `t`; `media` fills the `source` block. `compact_words` writes each
    word as a [start, end, text, probability] list (the store's form); both read back."""
    out: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if media is not None:
        out["source"] = {"path": media.path, "sha256": media.sha256, "duration": media.duration}
    out.update({
        "language": t.language,
        "language_probability": t.language_probability,
        "duration": t.duration,
        "backend": t.backend,
        "model": t.model,
        "threads": t.threads,
        "segments": [_segment_to_dict(s, compact_words) for s in t.segments],
    })
    if t.translation is not None:
        segments = [_segment_to_dict(s, compact_words) for s in t.translation.segments]
        out["translation"] = {"language": t.translation.language, "segments": segments}
    return out


def _word_from(w: Any) -> Word:
    if isinstance(w, list | tuple):
        return Word(float(w[0]), float(w[1]), str(w[2]), float(w[3]),
                    speaker=_speaker(w[4]) if len(w) > 4 else None)
    return Word(start=float(w["start"]), end=float(w["end"]), text=str(w["text"]),
                probability=float(w.get("probability", 0.0)), speaker=_speaker(w.get("speaker")))


def _segments_from(items: Any) -> tuple[Segment, ...]:
    return tuple(
        Segment(start=float(s["start"]), end=float(s["end"]), text=str(s["text"]),
                words=tuple(_word_from(w) for w in (s.get("words") or ())),
                speaker=_speaker(s.get("speaker")))
        for s in items)


def transcript_from_dict(d: Mapping[str, Any]) -> Transcript:
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
                          backend=str(d["backend"]), model=str(d["model"]), translation=translation,
                          threads=int(d.get("threads", 0) or 0))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise TranscriptionError(f"malformed transcript JSON ({type(exc).__name__}: {exc})") from None


def read_transcript(path: str | os.PathLike[str]) -> Transcript:
    """Load a transcript JSON file written by `pipeline.atomic.write_json_atomic(transcript_to_dict(...))`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TranscriptionError(f"{os.fspath(path)}: cannot read transcript ({exc})") from None
    return transcript_from_dict(data)
