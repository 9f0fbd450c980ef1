"""Face samples cached per source and range: the second request (the export after the review
page, or another profile) reads the cache instead of running the detector; a corrupt entry or
another range is detected afresh. The detector is counted here; the real one runs in
tests/flows/test_export_people.py."""

from __future__ import annotations

from pathlib import Path

from pipeline.render import face_cache
from pipeline.render.faces import Box, Face, FaceSample

SAMPLES = (FaceSample(1.0, (Face(Box(10, 20, 30, 40), 0.9),), True), FaceSample(1.5, (), False),
           FaceSample(2.0, (Face(Box(50, 60, 30, 40), 0.9),), True, since=1.0))


def _counting(monkeypatch) -> list[tuple[float, float]]:
    calls: list[tuple[float, float]] = []

    def fake(path, start, end, sample_fps=2.0, progress=None):
        calls.append((start, end))
        return SAMPLES

    monkeypatch.setattr(face_cache, "detect_faces", fake)
    return calls


def test_the_second_request_reads_the_cache(tmp_path: Path, monkeypatch):
    calls = _counting(monkeypatch)
    src = tmp_path / "v.mp4"
    first = face_cache.cached_face_samples(tmp_path / "faces", src, "ab" * 32, 1.0, 2.0)
    again = face_cache.cached_face_samples(tmp_path / "faces", src, "ab" * 32, 1.0, 2.0)
    assert first == again == SAMPLES and calls == [(1.0, 2.0)]
    face_cache.cached_face_samples(tmp_path / "faces", src, "ab" * 32, 1.0, 2.5)
    assert calls == [(1.0, 2.0), (1.0, 2.5)]


def test_a_corrupt_entry_is_detected_again(tmp_path: Path, monkeypatch):
    calls = _counting(monkeypatch)
    face_cache.cached_face_samples(tmp_path, tmp_path / "v.mp4", "cd" * 32, 0.0, 1.0)
    (entry,) = tmp_path.glob("*.json")
    entry.write_text("{not json")
    assert face_cache.cached_face_samples(tmp_path, tmp_path / "v.mp4", "cd" * 32, 0.0, 1.0) == SAMPLES
    assert len(calls) == 2
