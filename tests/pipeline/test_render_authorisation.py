"""The renderer's gate check: without, with a stale or with a forged authorisation it fails and
writes nothing (no ffmpeg, no directory, no file)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.authorisation import ExportAuthorisation, sign_authorisation
from pipeline.errors import AuthorisationError
from pipeline.render.render_export import RenderRequest, render_export
from tests.pipeline.render_support import HASH, KEY, authorisation


def _request(tmp_path: Path, **changes) -> RenderRequest:
    base = RenderRequest(candidate_id=1, version=1, version_hash=HASH, source=str(tmp_path / "src.mp4"),
                         source_sha256="0" * 64, start=0.0, end=2.0, out_dir=str(tmp_path / "exports"))
    return replace(base, **changes)


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
        render_export(_request(tmp_path), None, KEY)
    _assert_nothing_written(tmp_path)


def test_with_stale_authorisation(tmp_path):
    # Approved version 1; the candidate was edited since, so its hash is different now.
    edited = _request(tmp_path, version=2, version_hash="cd" * 32)
    with pytest.raises(AuthorisationError, match="stale"):
        render_export(edited, authorisation(), KEY)
    _assert_nothing_written(tmp_path)


def test_with_forged_authorisation(tmp_path):
    genuine = authorisation()
    tampered = replace(genuine, version_hash="cd" * 32)  # edited after signing
    with pytest.raises(AuthorisationError, match="forged"):
        render_export(_request(tmp_path, version_hash="cd" * 32), tampered, KEY)
    other_key = sign_authorisation(ExportAuthorisation(1, 1, HASH, ("eve",), "2026-11-23T08:00:00+00:00"),
                                   b"not-the-workspace-key")
    with pytest.raises(AuthorisationError, match="forged"):
        render_export(_request(tmp_path), other_key, KEY)
    unsigned = replace(genuine, signature="")
    with pytest.raises(AuthorisationError):
        render_export(_request(tmp_path), unsigned, KEY)
    _assert_nothing_written(tmp_path)


def test_authorisation_for_another_candidate_or_version(tmp_path):
    with pytest.raises(AuthorisationError, match="candidate"):
        render_export(_request(tmp_path, candidate_id=2), authorisation(), KEY)
    # Same hash, different version number: refuse rather than guess.
    with pytest.raises(AuthorisationError, match="version"):
        render_export(_request(tmp_path, version=3), authorisation(), KEY)
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("scope", "changes", "reason"),
    [
        ({"shows_face": False}, {"blur_faces": False}, "face to be blurred"),
        ({"uses_real_voice": False}, {"alter_voice": False}, "voice to be altered"),
        ({"profile": "master"}, {"profile": "vertical"}, "master profile"),
        ({"platform": "web"}, {"platform": "tiktok"}, "platform 'web'"),
        ({"languages": ("en",)}, {"language": "ar"}, "subtitles in ar"),
    ],
)
def test_export_beyond_the_authorised_scope_is_refused(tmp_path, scope, changes, reason):
    from pipeline.records import Cue
    from pipeline.render.subs import SubtitleTrack

    tracks = (SubtitleTrack("en", (Cue(0.1, 1.5, ("hello",)),)),
              SubtitleTrack("ar", (Cue(0.1, 1.5, ("مرحبا",)),)))
    req = _request(tmp_path, language="en", platform="web", subtitles=tracks[:1], blur_faces=True,
                   alter_voice=True)
    if changes.get("language") == "ar":
        changes = {**changes, "subtitles": tracks}
    with pytest.raises(AuthorisationError, match=reason):
        render_export(replace(req, **changes), authorisation(**scope), KEY)
    _assert_nothing_written(tmp_path)


def test_export_that_skips_a_registry_redaction_is_refused(tmp_path):
    from pipeline.authorisation import redaction_digest

    auth = authorisation(redactions=redaction_digest(("Yusuf Darwish", "Raqqa"), KEY))
    req = _request(tmp_path, blur_faces=True, alter_voice=True, pseudonym="Witness K")
    with pytest.raises(AuthorisationError, match="differ from those the registry required"):
        render_export(replace(req, redact_terms=("Yusuf Darwish",), registry_terms=("Yusuf Darwish",)),
                      auth, KEY)
    with pytest.raises(AuthorisationError, match="would not be redacted"):
        render_export(replace(req, redact_terms=("Raqqa",), registry_terms=("Raqqa", "yusuf darwish")),
                      auth, KEY)
    _assert_nothing_written(tmp_path)
    # The terms the gate required, in any case or order, plus an editor's own: allowed through to
    # the render (which this test's fixture stops at the first probe).
    ok = replace(req, redact_terms=("raqqa", "YUSUF DARWISH", "the baker"),
                 registry_terms=("raqqa", "YUSUF DARWISH"))
    with pytest.raises(AssertionError, match="before the authorisation was verified"):
        render_export(ok, auth, KEY)
