"""The shipped label heads: fitted for the current taxonomy and exemplars, checksummed, used on
load (no first-use fitting), and learned heads installed into a workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.themes.heads import (
    HeadsError,
    load_installed_heads,
    load_shipped_heads,
    shipped_key,
    shipped_paths,
)
from pipeline.themes.multilingual import MultilingualEncoder
from pipeline.themes.scoring import FlagOptions, fit_key
from pipeline.themes.taxonomy import load_taxonomy


def current_key() -> str:
    return fit_key(load_taxonomy(), MultilingualEncoder.key_for(), MultilingualEncoder.backend,
                   FlagOptions())


def test_shipped_heads_match_the_current_taxonomy_and_exemplars() -> None:
    # Fails after an edit of taxonomy.yaml or data/interview_exemplars.jsonl: refit with
    # `python -m pipeline.themes.heads` and commit pipeline/themes/data/heads.*.
    assert shipped_key() == current_key()
    fitted = load_shipped_heads(current_key())
    assert fitted is not None
    assert fitted.weights.shape[0] == len(load_taxonomy().ids)
    assert fitted.thresholds is not None


def test_shipped_heads_are_ignored_for_another_key() -> None:
    assert load_shipped_heads("not-this-taxonomy") is None


def test_a_tampered_heads_file_is_refused(tmp_path: Path) -> None:
    npz, meta = shipped_paths()
    (tmp_path / "heads-x.npz").write_bytes(npz.read_bytes() + b"x")
    record = json.loads(meta.read_text(encoding="utf-8"))
    (tmp_path / "current.json").write_text(json.dumps({**record, "file": "heads-x.npz"}), encoding="utf-8")
    with pytest.raises(HeadsError):
        load_installed_heads(tmp_path, record["key"])
    assert load_installed_heads(tmp_path, "other-key") is None
