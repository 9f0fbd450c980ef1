"""Two encoders side by side: the multilingual USE on a sentence's own text, and English MiniLM on
its English pivot (the text itself when English; Whisper's English translation where ingest has
one). Measured on the issue-15 dev data (bench/RESULTS.md): the pair ranks labels better than USE
alone. A non-English sentence without a pivot gets the MiniLM half estimated from its USE half by
a linear map fitted on English training rows (stored with the heads).

Both halves are unit vectors scaled by 1/sqrt(2), so the pair is a unit vector too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline.themes.encoder import DIM as MINILM_DIM
from pipeline.themes.encoder import Encoder
from pipeline.themes.multilingual import DIM as USE_DIM
from pipeline.themes.multilingual import MultilingualEncoder

HALF = 1.0 / math.sqrt(2.0)
RIDGE = 1.0  # regularisation of the USE -> MiniLM map


class PivotEncoder(MultilingualEncoder):
    """[USE(text), MiniLM(English pivot)] vectors. Load once, pass it in."""

    backend = "usem3+minilm"
    dim = USE_DIM + MINILM_DIM

    def __init__(self, use: MultilingualEncoder, minilm: Encoder) -> None:
        super().__init__(use._model, use.model_dir)
        self.use = use
        self.minilm = minilm
        self.key = f"{use.key}+minilm-{minilm.key}"

    @classmethod
    def load(cls, threads: int | None = None) -> PivotEncoder:  # type: ignore[override]
        """Both packaged encoders, checked and loaded."""
        return cls(MultilingualEncoder.load(threads=threads), Encoder.load(threads=threads))

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, pivots: Sequence[str | None] | None = None
    ) -> np.ndarray:
        """(len(texts), 896) vectors. `pivots`: the English text to read with MiniLM per sentence
        (default: the text itself); where a pivot is None the MiniLM half is NaN, to be filled by
        `impute` with the heads' map."""
        texts = list(texts)
        out = np.full((len(texts), self.dim), np.nan, dtype=np.float32)
        if not texts:
            return out
        out[:, :USE_DIM] = HALF * self.use.encode(texts, batch_size=batch_size)
        pivots = list(texts) if pivots is None else list(pivots)
        rows = [i for i, p in enumerate(pivots) if p]
        if rows:
            vecs = self.minilm.encode([str(pivots[i]) for i in rows], batch_size=batch_size)
            out[rows, USE_DIM:] = HALF * vecs
        return out


def fit_impute(use_half: np.ndarray, minilm_half: np.ndarray) -> np.ndarray:
    """Ridge map (USE_DIM, MINILM_DIM) from English rows' USE halves to their MiniLM halves."""
    u = np.asarray(use_half, dtype=np.float64)
    gram = u.T @ u + RIDGE * np.eye(u.shape[1])
    return np.linalg.solve(gram, u.T @ np.asarray(minilm_half, dtype=np.float64)).astype(np.float32)


def impute(emb: np.ndarray, mapping: np.ndarray | None) -> np.ndarray:
    """`emb` with every NaN MiniLM half replaced by the mapped USE half (renormalised to 1/sqrt 2)."""
    missing = np.isnan(emb[:, USE_DIM:]).any(axis=1) if emb.shape[1] > USE_DIM else np.zeros(0, bool)
    if not missing.any():
        return emb
    out = np.array(emb, copy=True)
    if mapping is None:
        out[missing, USE_DIM:] = 0.0
        return out
    est = out[missing, :USE_DIM] @ mapping
    out[missing, USE_DIM:] = HALF * est / np.maximum(np.linalg.norm(est, axis=1, keepdims=True), 1e-12)
    return out
