"""What the model needs to know of one text column: which pooling module and its size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from torch import Tensor

Module = Literal["bag", "linear", "vectors"]


@dataclass(frozen=True)
class TextField:
    """``module``: ``bag`` (mean or attention pooling of token embeddings), ``linear`` (a
    weighted sum of token rows: a linear map of a sparse tf-idf vector) or ``vectors`` (frozen
    vectors by index, projected). ``rows``: embedding rows (padding 0 included); ``vectors``:
    ``[U + 1, D]`` for ``vectors`` (row 0 unused: the empty text); ``hidden``: the width of the
    optional MLP of the projection."""

    name: str
    module: Module
    rows: int = 0
    pooling: str = "mean"
    vectors: Tensor | None = None
    hidden: int | None = None


class TextEncoder:
    """A text column's encoder: fitted on the train split's texts, then turns any split's texts
    into token ids ``[N, width]`` (0 = padding) and weights of the same shape."""

    width: int = 1

    def check(self, where: str) -> None:
        """What can be checked before any data loads (a pretrained model's files)."""

    def encode_all(self, texts: pd.Series) -> None:
        """Sees every split's texts (a frozen encoder encodes them; fitting never sees them)."""

    def fit(self, texts: pd.Series) -> TextEncoder:
        return self

    def transform(self, texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def field(self, name: str) -> TextField:
        raise NotImplementedError

    def state(self) -> dict:
        """What ``preprocess.json`` keeps (vocabularies, idf)."""
        return {}

    def record(self) -> dict:
        """The keys of ``summary.json`` that identify what encoded the column."""
        return {}


def padded(rows: np.ndarray, slots: np.ndarray, values: np.ndarray, n: int, width: int,
           dtype) -> np.ndarray:  # fmt: skip
    out = np.zeros((n, width), dtype=dtype)
    out[rows, slots] = values
    return out
