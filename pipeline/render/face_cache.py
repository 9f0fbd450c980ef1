"""Face samples cached per source and range in the workspace, so the review preview (which draws
the detected boxes over the video) and later requests do not run the detector again. Keyed by
the source's sha256, the range (milliseconds), the sampling rate and the detector's model file
hash; written atomically; a corrupt entry is recomputed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pipeline.atomic import write_json_atomic
from pipeline.render.faces import Box, Face, FaceSample, detect_faces

SCHEMA = "counterclips.faces/1"


def _key(sha256: str, start: float, end: float, sample_fps: float) -> str:
    return f"{sha256[:32]}-{round(start * 1000)}-{round(end * 1000)}-{sample_fps:g}fps.json"


def samples_to_json(samples: tuple[FaceSample, ...]) -> list[dict[str, object]]:
    return [{"t": round(s.time, 3), "fine": s.fine,
             "faces": [[f.box.x, f.box.y, f.box.width, f.box.height, round(f.score, 4)] for f in s.faces],
             **({"since": round(s.since, 3)} if s.since is not None else {})}
            for s in samples]


def samples_from_json(rows: list[dict[str, object]]) -> tuple[FaceSample, ...]:
    return tuple(FaceSample(float(r["t"]),  # type: ignore[arg-type]
                            tuple(Face(Box(int(a), int(b), int(c), int(d)), float(e))
                                  for a, b, c, d, e in r["faces"]),  # type: ignore[union-attr]
                            bool(r.get("fine", True)),
                            None if r.get("since") is None else float(r["since"]))  # type: ignore[arg-type]
                 for r in rows)


def cached_face_samples(cache_dir: Path, source: Path, sha256: str, start: float, end: float,
                        sample_fps: float = 2.0,
                        progress: Callable[[float], None] | None = None) -> tuple[FaceSample, ...]:
    """`detect_faces(source, start, end, sample_fps)`, from `cache_dir` when computed before."""
    from pipeline.render.face_model import MODEL_SHA256 as model

    path = cache_dir / _key(sha256, start, end, sample_fps)
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("schema") == SCHEMA and data.get("model") == model:
                return samples_from_json(data["samples"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # recompute below
    samples = detect_faces(str(source), start, end, sample_fps, progress=progress)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"schema": SCHEMA, "model": model, "source_sha256": sha256, "start": start,
                             "end": end, "sample_fps": sample_fps, "samples": samples_to_json(samples)})
    return samples
