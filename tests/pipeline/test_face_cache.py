"""Face samples cached per source and range: the second request (the export after the review
page, or another profile) reads the cache instead of running the detector; a corrupt entry or
another range is detected afresh. The detector is counted here; the real one runs in
tests/flows/test_export_people.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_an_export_after_its_preview_runs_no_detection(tmp_path: Path, monkeypatch):
    """The preview (nightly or page view) detects on the source and fills the workspace's face
    cache; the export of the same plan then reads it and blurs the same faces."""
    import shutil

    from pipeline.render import faces
    from pipeline.render.render_export import PreviewOptions, render_export, render_preview
    from tests.conftest import shared_media_file
    from tests.pipeline.render_support import KEY, TALKING_HEAD, authorisation, plan_of, request

    source = tmp_path / "source.mp4"
    shutil.copy(shared_media_file(TALKING_HEAD), source)
    plan = plan_of(request(source, tmp_path / "exports", blur_faces=True))
    cache = tmp_path / "faces"
    render_preview(plan, source, tmp_path / "previews" / "p.mp4", options=PreviewOptions(max_height=288),
                   face_cache=cache)
    (entry,) = cache.glob("*.json")
    cached = face_cache.samples_from_json(json.loads(entry.read_text())["samples"])
    assert any(s.faces for s in cached)

    def no_detection(*_args, **_kwargs):
        raise AssertionError("the export ran the detector again")

    monkeypatch.setattr(face_cache, "detect_faces", no_detection)
    monkeypatch.setattr(faces, "detect_faces", no_detection)
    done = render_export(plan, authorisation(plan=plan, shows_face=False), KEY, source, tmp_path / "exports",
                         face_cache=cache)
    manifest = json.loads(Path(done.manifest).read_text())
    assert manifest["identity_protection"]["face_samples"] == len(cached)
    assert manifest["identity_protection"]["blur_regions"] > 0
