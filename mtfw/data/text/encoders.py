"""The token encoders of the ``text`` kind, fitted on the train split only.

``bag_of_words``: the first ``max_tokens`` tokens, a vocabulary of the ``vocab_size`` most
frequent train tokens (id 1: a token outside it), pooled by mean or attention. ``tfidf``: the
tf-idf vector of a text (``1 + log tf`` times the smoothed train idf, L2-normalised) over a fitted
vocabulary or ``n_features`` hashed buckets, its ``max_terms`` largest entries kept, projected
linearly."""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np
import pandas as pd

from mtfw.data.text.field import TextEncoder, TextField, padded
from mtfw.data.text.tokenize import frequent, positions, tokens
from mtfw.registry import register
from mtfw.value_types import Count


@register("text", "bag_of_words")
class BagOfWords(TextEncoder):
    """A learned embedding bag over the first max_tokens tokens, mean or attention pooling."""

    def __init__(self, max_tokens: Count = 64, vocab_size: Count = 20000, min_count: Count = 1,
                 pooling: Literal["mean", "attention"] = "mean"):  # fmt: skip
        self.width, self.vocab_size, self.min_count = max_tokens, vocab_size, min_count
        self.pooling = pooling
        self.vocab: list[str] = []

    def fit(self, texts: pd.Series) -> BagOfWords:
        self.vocab = frequent(tokens(texts), self.vocab_size, self.min_count)
        return self

    def transform(self, texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        found = tokens(texts)
        slot = positions(found)
        keep = slot < self.width  # the first max_tokens tokens
        ids = pd.Index(self.vocab).get_indexer(found[keep].to_numpy()) + 2  # unseen: 1, pad: 0
        rows = found.index.to_numpy()[keep]
        ids = padded(rows, slot[keep], ids, len(texts), self.width, np.int64)
        return ids, (ids > 0).astype(np.float32)

    def field(self, name: str) -> TextField:
        return TextField(name, "bag", len(self.vocab) + 2, self.pooling)

    def state(self) -> dict:
        return {"vocab": self.vocab}

    def record(self) -> dict:
        return {"vocab_size": len(self.vocab)}


def hashed(words: np.ndarray, n_features: int) -> np.ndarray:
    """A token's bucket: CRC-32 (the same in every process, unlike ``hash``)."""
    return np.array([zlib.crc32(w.encode()) % n_features for w in words], dtype=np.int64)


@register("text", "tfidf")
class Tfidf(TextEncoder):
    """TF-IDF (fitted vocabulary or hashing, idf from train) projected linearly."""

    def __init__(self, vocabulary: Literal["fitted", "hashing"] = "fitted",
                 vocab_size: Count = 20000, n_features: Count = 2**16, min_count: Count = 1,
                 max_terms: Count = 64):  # fmt: skip
        self.vocabulary, self.vocab_size, self.n_features = vocabulary, vocab_size, n_features
        self.min_count, self.width = min_count, max_terms
        self.vocab: list[str] = []
        self.idf = np.zeros(0)

    def _terms(self, texts: pd.Series) -> pd.DataFrame:
        """One row per (text, term): the term's column (0-based) and count; unknown terms
        dropped."""
        found = tokens(texts)
        if self.vocabulary == "hashing":
            term = hashed(found.to_numpy(), self.n_features)
        else:
            term = pd.Index(self.vocab).get_indexer(found.to_numpy())
        frame = pd.DataFrame({"row": found.index.to_numpy(), "term": term})
        frame = frame[frame["term"] >= 0]
        return frame.groupby(["row", "term"]).size().rename("tf").reset_index()

    @property
    def n_terms(self) -> int:
        return self.n_features if self.vocabulary == "hashing" else len(self.vocab)

    def fit(self, texts: pd.Series) -> Tfidf:
        if self.vocabulary == "fitted":
            self.vocab = frequent(tokens(texts), self.vocab_size, self.min_count)
        df = np.bincount(self._terms(texts)["term"].to_numpy(), minlength=self.n_terms)
        self.idf = np.log((1 + len(texts)) / (1 + df)) + 1.0  # smoothed, as scikit-learn's
        return self

    def transform(self, texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        terms = self._terms(texts)
        weight = (1 + np.log(terms["tf"].to_numpy())) * self.idf[terms["term"].to_numpy()]
        terms = terms.assign(w=weight, square=weight**2)
        norm = np.sqrt(terms.groupby("row")["square"].transform("sum").to_numpy())
        terms = terms.assign(w=weight / norm)
        terms = terms.sort_values(["row", "w", "term"], ascending=[True, False, True])
        slot = terms.groupby("row").cumcount().to_numpy()
        keep = slot < self.width  # the largest max_terms entries
        rows, ids = terms["row"].to_numpy()[keep], terms["term"].to_numpy()[keep] + 1
        shape = (len(texts), self.width)
        weights = padded(rows, slot[keep], terms["w"].to_numpy()[keep], *shape, np.float32)
        return padded(rows, slot[keep], ids, *shape, np.int64), weights

    def field(self, name: str) -> TextField:
        return TextField(name, "linear", self.n_terms + 1)

    def state(self) -> dict:
        return {"vocabulary": self.vocabulary, "vocab": self.vocab, "idf": self.idf.tolist()}

    def record(self) -> dict:
        return {"n_terms": self.n_terms}
