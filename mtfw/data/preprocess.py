"""Preprocessing fitted on the train split only and saved with the run.

Categorical columns get a vocabulary of the values seen in train (id 0 is reserved for values never
seen, so validation, test and inference never fail on a new value); a missing value is a category of
its own. Numeric columns are optionally log1p-transformed, standardised with train statistics, and
missing values (empty, NaN, infinite) are filled with the train mean (0 after standardising); with
``missing_indicator`` each numeric column with missing values *in train* also gets a 0/1 input
``<col>_missing`` (1 where the value is missing), after the numeric columns. A sequence column holds
separated tokens (``"12|55|78"``, a user's recent items, oldest first): its vocabulary is the
train split's tokens (id 0 pads, id 1 is an unseen token) and its last ``max_length`` tokens are
kept. Text columns are encoded by their :class:`~mtfw.data.text.TextColumns` (``text``), fitted
on train too. ``min_count`` and ``hash_buckets`` (per column) shape the categorical rows
(``mtfw.data.id_vocab``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mtfw.data.id_vocab import MISSING, encode_hashed, fit_buckets, fit_vocabulary
from mtfw.data.text.columns import TextColumns


class Preprocessor:
    def __init__(
        self, categorical: list[str], numeric: list[str], log1p: list[str] | None = None,
        sequence: dict[str, dict] | None = None, missing_indicator: bool = False,
        text: TextColumns | None = None, min_count: dict[str, int] | None = None,
        hash_buckets: dict[str, int] | None = None,
    ):  # fmt: skip
        self.text = text or TextColumns()
        self.min_count = {c: n for c, n in (min_count or {}).items() if n > 1}
        self.hash_buckets = dict(hash_buckets or {})  # column -> buckets (no vocabulary)
        self.kept_buckets: dict[str, list[int] | None] = {}  # hashed + min_count: kept ones
        self.categorical = list(categorical)
        self.numeric = list(numeric)
        self.log1p = [c for c in (log1p or []) if c in self.numeric]
        self.sequence = {c: dict(spec) for c, spec in (sequence or {}).items()}
        self.tokens: dict[str, list[str]] = {}
        self.vocab: dict[str, list[str]] = {}
        self.mean: dict[str, float] = {}
        self.std: dict[str, float] = {}
        self.missing_indicator = missing_indicator
        self.indicators: list[str] = []  # numeric columns with missing values in train
        self._indexes: dict[str, pd.Index] = {}  # vocab_index's

    def numeric_values(self, frame: pd.DataFrame, col: str) -> np.ndarray:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        if col in self.log1p:
            values = np.sign(values) * np.log1p(np.abs(values))
        return values

    def fit(self, frame: pd.DataFrame, everything: pd.DataFrame | None = None) -> Preprocessor:
        """On the train split ``frame``; a frozen text encoder encodes ``everything``'s texts."""
        if len(frame) == 0:
            raise ValueError("cannot fit preprocessing on an empty train split")
        self.text.fit(frame, everything)
        self._indexes = {}
        for col in self.categorical:
            if col in self.hash_buckets:
                self.vocab[col] = []
                kept = fit_buckets(frame[col], self.hash_buckets[col], self.min_count.get(col, 1))
                self.kept_buckets[col] = kept
            else:
                self.vocab[col] = fit_vocabulary(frame[col], self.min_count.get(col, 1))
        for col in self.sequence:
            self.tokens[col] = sorted(set(self.split_tokens(frame, col).dropna().tolist()))
        for col in self.numeric:
            values = self.numeric_values(frame, col)
            finite = values[np.isfinite(values)]
            mean = float(finite.mean()) if finite.size else 0.0
            std = float(finite.std()) if finite.size else 1.0
            self.mean[col], self.std[col] = mean, (std if std > 0 else 1.0)
        self.indicators = [
            c for c in self.numeric
            if self.missing_indicator and not np.isfinite(self.numeric_values(frame, c)).all()
        ]  # fmt: skip
        return self

    def split_tokens(self, frame: pd.DataFrame, col: str) -> pd.Series:
        """One token per row of a long series indexed by row position (NaN: an empty sequence)."""
        separator = self.sequence[col].get("separator", "|")
        values = frame[col].astype("string").fillna("").reset_index(drop=True)
        tokens = values.str.split(separator).explode().str.strip()
        return tokens.where(tokens != "")

    @property
    def sequence_vocab_sizes(self) -> list[int]:
        """Embedding rows per sequence column: padding 0 and unseen token 1 included."""
        return [len(self.tokens[c]) + 2 for c in self.sequence]

    def transform_sequences(self, frame: pd.DataFrame) -> torch.Tensor | None:
        """``[N, S, L]`` token ids, each row's last ``max_length`` tokens, left-padded with 0."""
        if not self.sequence:
            return None
        length = max(int(s.get("max_length", 20)) for s in self.sequence.values())
        out = np.zeros((len(frame), len(self.sequence), length), dtype=np.int64)
        for s, col in enumerate(self.sequence):
            tokens = self.split_tokens(frame, col).dropna()
            ids = pd.Index(self.tokens[col]).get_indexer(tokens.astype(str)) + 2  # unseen: 1
            rows = tokens.index.to_numpy()
            from_end = pd.Series(rows).groupby(rows).cumcount(ascending=False).to_numpy()
            keep = from_end < int(self.sequence[col].get("max_length", 20))
            out[rows[keep], s, length - 1 - from_end[keep]] = ids[keep]
        return torch.from_numpy(out)

    @property
    def numeric_names(self) -> list[str]:
        """The numeric inputs in order: the numeric columns, then their missing indicators."""
        return [*self.numeric, *(f"{c}_missing" for c in self.indicators)]

    @property
    def vocab_sizes(self) -> list[int]:
        """Embedding rows per categorical column, the unknown-value id 0 included."""
        return [self.hash_buckets.get(c, len(self.vocab[c])) + 1 for c in self.categorical]

    def transform(self, frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        cat = np.zeros((len(frame), len(self.categorical)), dtype=np.int64)
        for j, col in enumerate(self.categorical):
            if col in self.hash_buckets:
                buckets, kept = self.hash_buckets[col], self.kept_buckets.get(col)
                cat[:, j] = encode_hashed(frame[col], buckets, kept)
                continue
            values = frame[col].astype("string").fillna(MISSING)
            # get_indexer gives -1 for values outside the train vocabulary: +1 maps them to 0.
            cat[:, j] = self.vocab_index(col).get_indexer(values).astype(np.int64) + 1
        num = np.zeros((len(frame), len(self.numeric_names)), dtype=np.float32)
        for j, col in enumerate(self.numeric):
            values = (self.numeric_values(frame, col) - self.mean[col]) / self.std[col]
            num[:, j] = np.where(np.isfinite(values), values, 0.0)
        for j, col in enumerate(self.indicators, start=len(self.numeric)):
            num[:, j] = ~np.isfinite(self.numeric_values(frame, col))
        return torch.from_numpy(cat), torch.from_numpy(num)

    def vocab_index(self, col: str) -> pd.Index:
        """The vocabulary of ``col`` as an index, built once (a chunked transform would otherwise
        hash a large vocabulary again for every chunk)."""
        index = self._indexes.get(col)
        if index is None or len(index) != len(self.vocab[col]):
            index = self._indexes[col] = pd.Index(self.vocab[col])
        return index

    def to_dict(self) -> dict:
        return {
            "categorical": self.categorical,
            "numeric": self.numeric,
            "log1p": self.log1p,
            "vocab": self.vocab,
            "mean": self.mean,
            "std": self.std,
            "sequence": self.sequence,
            "tokens": self.tokens,
            "missing_indicator": self.missing_indicator,
            "indicators": self.indicators,
            "text": self.text.to_dict(),
            "min_count": self.min_count,
            "hash_buckets": self.hash_buckets,
            "kept_buckets": self.kept_buckets,
        }

    @classmethod
    def from_dict(cls, state: dict) -> Preprocessor:
        pre = cls(state["categorical"], state["numeric"], state["log1p"], state.get("sequence"),
                  state.get("missing_indicator", False), min_count=state.get("min_count"),
                  hash_buckets=state.get("hash_buckets"))  # fmt: skip
        pre.kept_buckets = state.get("kept_buckets", {})
        pre.indicators = state.get("indicators", [])
        pre.vocab, pre.mean, pre.std = state["vocab"], state["mean"], state["std"]
        pre.tokens = state.get("tokens", {})
        pre.text = TextColumns.from_dict(state.get("text", {}))
        return pre

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: Path) -> Preprocessor:
        return cls.from_dict(json.loads(Path(path).read_text()))
