"""Word features beside the sentence embedding: which words and word pairs a sentence uses.

A sentence embedding blurs who did what: "I drove the ammunition truck" and "they drove us to the
camp" land close together, and the classifier reads the topic, not the stance. Word pairs such as
"i drove", "would go", "go back" keep that surface. The label heads are fitted on the embedding
and these features side by side (`FlagOptions.lexical`), so each label learns which words count.

Features are unigrams and bigrams of lower-cased words (Arabic without vowel marks and leading
clitics), kept when at least two training sentences use them, weighted by inverse document
frequency and scaled to unit length. Pure Python and numpy: a few microseconds per sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_MARKS = re.compile(r"[\u064B-\u0652\u0670\u0640]")
MIN_DF = 2
# Arabic spelling varies in the hamza of alif, the final ta marbuta and alif maqsura; a light stem
# (Larkey's light10 suffixes) lets "قاتلوا", "قاتلت" and "قاتل" share their root's features.
_AR_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def _arabic_stem(word: str) -> str:
    if not _ARABIC.match(word):
        return word
    for suffix in _AR_SUFFIXES:
        if len(word) >= len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """Unigrams and bigrams of `text` (Arabic tokens normalised, without marks, leading clitics
    and common suffixes)."""
    from pipeline.themes.cue_phrases import strip_clitics

    arabic = bool(_ARABIC.search(text))
    if arabic:
        text = strip_clitics(_MARKS.sub("", text)).translate(_AR_LETTERS)
    words = _WORD.findall(text.lower().replace("’", "'"))
    if arabic:
        words = [_arabic_stem(w) for w in words]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class Lexicon:
    """A fitted vocabulary: feature strings and their inverse document frequencies."""

    __slots__ = ("vocab", "idf", "_index")

    def __init__(self, vocab: Sequence[str], idf: np.ndarray) -> None:
        self.vocab = tuple(str(t) for t in vocab)
        self.idf = np.asarray(idf, dtype=np.float32)
        self._index = {t: i for i, t in enumerate(self.vocab)}

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = MIN_DF) -> Lexicon:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(tokens(text)))
        vocab = tuple(sorted(t for t, c in df.items() if c >= min_df))
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in vocab], dtype=np.float32)
        return cls(vocab, idf)

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, the columns it uses and their unit-length tf-idf values (sparse `transform`)."""
        index = self._index
        out = []
        for text in texts:
            cols = np.array(sorted({index[t] for t in tokens(text) if t in index}), dtype=np.int64)
            vals = self.idf[cols]
            out.append((cols, vals / float(np.linalg.norm(vals)) if len(cols) else vals))
        return out

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(vocab)) unit-length tf-idf rows (binary term frequency)."""
        index = self._index
        out = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for row, text in enumerate(texts):
            cols = sorted({index[t] for t in tokens(text) if t in index})
            if cols:
                vals = self.idf[cols]
                out[row, cols] = vals / float(np.linalg.norm(vals))
        return out


class NeighbourWords:
    """Borrowed English words for a sentence in another language: the word features of the English
    training sentences nearest to it in the multilingual embedding, averaged. The heads learn most
    of their word weights from English, which a French or Arabic sentence lacks; the multilingual
    embedding puts a translation next to its original, so its nearest English sentences lend it
    words of the same kind."""

    __slots__ = ("vectors", "indptr", "indices", "data", "k", "weight")

    def __init__(self, vectors: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                 k: int = 5, weight: float = 1.0) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.indptr, self.indices = np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64)
        self.data = np.asarray(data, dtype=np.float32)
        self.k, self.weight = int(k), float(weight)

    @classmethod
    def build(cls, vectors: np.ndarray, rows: np.ndarray, k: int = 5, weight: float = 1.0) -> NeighbourWords:
        """From English sentence vectors and their (dense) word-feature rows."""
        nz = [np.flatnonzero(r) for r in rows]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in nz])])
        indices = np.concatenate(nz) if nz else np.zeros(0, dtype=np.int64)
        data = np.concatenate([r[x] for r, x in zip(rows, nz, strict=True)]) if nz else np.zeros(0)
        return cls(vectors, indptr, indices, data, k, weight)

    def lend(
        self, rows: np.ndarray, vectors: np.ndarray, exclude: Sequence[set[int]] | None = None
    ) -> np.ndarray:
        """`rows` (word features) plus `weight` x the mean word features of each row's `k` nearest
        English sentences (`exclude`: per row, English sentences it may not borrow from, e.g. its
        own original in training)."""
        out = np.array(rows, dtype=np.float32, copy=True)
        if not len(out) or not len(self.vectors):
            return out
        sims = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        for i in range(len(out)):
            s = sims[i]
            if exclude is not None and exclude[i]:
                s = s.copy()
                s[list(exclude[i])] = -np.inf
            top = np.argpartition(-s, min(self.k, len(s) - 1))[: self.k]
            for j in top:
                a, b = self.indptr[j], self.indptr[j + 1]
                out[i, self.indices[a:b]] += self.weight * self.data[a:b] / self.k
        return out
