"""The renderer's gate check: it renders only a plan whose hash a genuine authorisation signs.
Without, with a stale or a forged authorisation it fails and writes nothing (no ffmpeg, no
directory, no file)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.authorisation import ExportAuthorisation, sign_authorisation
from pipeline.errors import AuthorisationError
from pipeline.records import Cue
from pipeline.render.render_export import render_export
from pipeline.render.subs import SubtitleTrack
from tests.pipeline.render_support import HASH, KEY, Req, authorisation, plan_of

TRACKS = (SubtitleTrack("en", (Cue(0.1, 1.5, ("hello",)),)),
          SubtitleTrack("ar", (Cue(0.1, 1.5, ("مرحبا",)),)))


def _req(tmp_path: Path, **changes) -> Req:
    base = Req(source=str(tmp_path / "src.mp4"), out_dir=str(tmp_path / "exports"),
               source_sha256="0" * 64, start=0.0, end=2.0, subtitles=TRACKS[:1])
    return replace(base, **changes)


def _render(tmp_path: Path, req: Req, auth: ExportAuthorisation | None) -> None:
    render_export(plan_of(req), auth, KEY, req.source, req.out_dir)


@pytest.fixture(autouse=True)
def no_ffmpeg(monkeypatch):
    """Any attempt to run ffmpeg or probe media fails the test."""
    def refuse(*_a, **_k):
        raise AssertionError("the renderer did work before the authorisation was verified")

    monkeypatch.setattr("pipeline.render.run.run_ffmpeg", refuse)
    monkeypatch.setattr("pipeline.media.probe", refuse)


def _assert_nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "exports").exists()


def test_without_authorisation(tmp_path):
    with pytest.raises(AuthorisationError, match="no export authorisation"):
        _render(tmp_path, _req(tmp_path), None)
    _assert_nothing_written(tmp_path)


def test_authorisation_without_a_plan_hash_is_refused(tmp_path):
    with pytest.raises(AuthorisationError, match="names no publication plan"):
        _render(tmp_path, _req(tmp_path), authorisation())
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize("change", [
    {"end": 2.5},  # a widened cut
    {"start": 0.2},
    {"subtitles": (SubtitleTrack("en", (Cue(0.1, 1.5, ("hello there",)),)),)},
    {"source_sha256": "1" * 64},
    {"redact_terms": ("hello",)},
    {"blur_faces": True},
])
def test_authorisation_of_another_plan_is_stale(tmp_path, change):
    approved = plan_of(_req(tmp_path))
    with pytest.raises(AuthorisationError, match="stale"):
        _render(tmp_path, _req(tmp_path, **change), authorisation(plan=approved))
    _assert_nothing_written(tmp_path)


def test_with_forged_authorisation(tmp_path):
    req = _req(tmp_path)
    genuine = authorisation(plan=plan_of(req))
    tampered = replace(genuine, plan_hash="cd" * 32)  # edited after signing
    with pytest.raises(AuthorisationError, match="forged"):
        _render(tmp_path, req, tampered)
    other_key = sign_authorisation(replace(genuine, signature=""), b"not-the-workspace-key")
    with pytest.raises(AuthorisationError, match="forged"):
        _render(tmp_path, req, other_key)
    with pytest.raises(AuthorisationError):
        _render(tmp_path, req, replace(genuine, signature=""))
    _assert_nothing_written(tmp_path)


def test_authorisation_for_another_candidate_or_version(tmp_path):
    req = _req(tmp_path)
    auth = authorisation(plan=plan_of(req))
    with pytest.raises(AuthorisationError, match="candidate"):
        _render(tmp_path, replace(req, candidate_id=2), auth)
    with pytest.raises(AuthorisationError, match="stale"):
        _render(tmp_path, replace(req, version=3), auth)
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("scope", "changes", "reason"),
    [
        ({"shows_face": False}, {"blur_faces": False}, "face to be blurred"),
        ({"uses_real_voice": False}, {"alter_voice": False}, "voice to be altered"),
        ({"profile": "master"}, {"profile": "vertical"}, "master profile"),
        ({"platform": "web"}, {"platform": "tiktok"}, "platform 'web'"),
        ({"languages": ("en",)}, {"language": "ar", "subtitles": TRACKS}, "subtitles in ar"),
    ],
)
def test_export_beyond_the_authorised_scope_is_refused(tmp_path, scope, changes, reason):
    # Even a signature over the plan itself does not stretch the scope the gate bound.
    req = _req(tmp_path, **{"language": "en", "platform": "web", "blur_faces": True, "alter_voice": True,
                            **changes})
    plan = plan_of(req)
    with pytest.raises(AuthorisationError, match=reason):
        render_export(plan, authorisation(plan=plan, **scope), KEY, req.source, req.out_dir)
    _assert_nothing_written(tmp_path)


def test_signed_plan_passes_to_the_render(tmp_path):
    req = _req(tmp_path)
    plan = plan_of(req)
    with pytest.raises(AssertionError, match="before the authorisation was verified"):
        render_export(plan, authorisation(plan=plan, version_hash=HASH), KEY, req.source, req.out_dir)
