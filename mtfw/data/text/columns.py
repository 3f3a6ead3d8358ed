"""The text columns of one table (a flat table, the item or the user file of interaction data):
their encoders built from ``text:`` (checked before any data loads), the columns checked once
the table is read, fitted on train, and every split turned into ``[N, T, L]`` token ids and
weights (T columns, L the widest encoder's width). A missing or blank text, or one without a
single token, has no tokens: the model gives it the column's learned empty-text vector."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from mtfw import registry
from mtfw.data.text.field import TextEncoder, TextField
from mtfw.errors import ConfigError
from mtfw.settings import closest

log = logging.getLogger("mtfw")


def build_encoder(column: str, node: Mapping | str | None, where: str) -> TextEncoder:
    spec = {"encoder": node} if isinstance(node, str) else dict(node or {})
    if "encoder" not in spec:
        raise ConfigError(
            f"{where}.{column}: missing 'encoder:' (one of: {', '.join(registry.names('text'))}), "
            f"e.g. {column}: {{encoder: tfidf}}"
        )
    name = spec.pop("encoder")
    encoder = registry.build("text", {"name": name, **spec}, where=f"{where}.{column}")
    encoder.check(f"{where}.{column}")  # a pretrained model's files, before any data loads
    return encoder


class TextColumns:
    """``specs``: column -> ``{encoder: NAME, ...its parameters}`` as written in ``text:``."""

    def __init__(self, specs: Mapping | None = None, where: str = "data.text"):
        if specs is not None and not isinstance(specs, Mapping):
            raise ConfigError(f"{where} maps column names to encoders, e.g. {{title: {{encoder: "
                              f"tfidf}}}}; got {specs!r}")  # fmt: skip
        self.where = where
        self.encoders = {str(c): build_encoder(str(c), n, where) for c, n in (specs or {}).items()}
        self.empty: dict[str, int] = {}
        self.saved: dict = {}  # the state read back from a run's preprocess.json

    @classmethod
    def from_dict(cls, state: dict) -> TextColumns:
        """A run's saved text state (vocabularies, idf, the model and cache key), kept as read:
        what ``mtfw recommend`` and ``mtfw explain`` compare today's data with."""
        columns = cls()
        columns.saved = dict(state)
        return columns

    def __bool__(self) -> bool:
        return bool(self.encoders)

    @property
    def names(self) -> list[str]:
        return list(self.encoders)

    def check_frame(self, frame: pd.DataFrame, what: str = "table") -> None:
        """Every text column exists and holds strings."""
        columns = [str(c) for c in frame.columns]
        for column in self.encoders:
            if column not in columns:
                raise ConfigError(
                    f"{self.where}.{column}: the {what} has no column '{column}'."
                    f"{closest(column, columns)} Columns: {', '.join(columns[:40])}"
                )
            values = frame[column]
            if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
                raise ConfigError(
                    f"{self.where}.{column}: column '{column}' holds {values.dtype} values, not "
                    f"text (e.g. {values.dropna().iloc[0]!r}); declare it under numeric or "
                    "categorical instead of text"
                )

    def fit(self, train: pd.DataFrame, everything: pd.DataFrame | None = None) -> TextColumns:
        """Token encoders fit on ``train``; a pretrained one encodes ``everything``'s distinct
        texts (it fits nothing, so no split leaks into another)."""
        everything = train if everything is None else everything
        self.check_frame(everything)
        for column, encoder in self.encoders.items():
            encoder.encode_all(everything[column])
            encoder.fit(train[column])
            self.empty[column] = n = self._count_empty(column, everything[column])
            log.info("text column '%s' (%s): %d of %d texts empty or missing: they get the "
                     "empty-text vector", column, encoder.registry_name, n,
                     len(everything))  # fmt: skip
        return self

    def _count_empty(self, column: str, texts: pd.Series) -> int:
        _, weights = self.encoders[column].transform(texts)
        return int((weights.sum(1) == 0).sum())

    @property
    def width(self) -> int:
        return max((e.width for e in self.encoders.values()), default=0)

    def transform(
        self, frame: pd.DataFrame, padding_row: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Token ids ``[N, T, L]`` (0 = padding) and their weights, or None without text; with
        ``padding_row`` an empty row 0 first (the padding item, the user known by features)."""
        if not self.encoders:
            return None
        first = int(padding_row)
        ids = np.zeros((first + len(frame), len(self.encoders), self.width), dtype=np.int64)
        weights = np.zeros(ids.shape, dtype=np.float32)
        for t, (column, encoder) in enumerate(self.encoders.items()):
            i, w = encoder.transform(frame[column])
            ids[first:, t, : i.shape[1]], weights[first:, t, : w.shape[1]] = i, w
        used = max(int((weights > 0).sum(-1).max(initial=0)), 1)  # trailing slots all padding
        return torch.from_numpy(ids[..., :used].copy()), torch.from_numpy(
            weights[..., :used].copy()
        )

    @property
    def fields(self) -> list[TextField]:
        return [encoder.field(column) for column, encoder in self.encoders.items()]

    def info(self, prefix: str = "data/text") -> dict:
        """Record keys: each column's encoder, its empty texts, and what identifies it."""
        out = {}
        for column, encoder in self.encoders.items():
            out[f"{prefix}/{column}/encoder"] = encoder.registry_name
            out[f"{prefix}/{column}/empty"] = self.empty.get(column, 0)
            out |= {f"{prefix}/{column}/{k}": v for k, v in encoder.record().items()}
        return out

    def to_dict(self) -> dict:
        if not self.encoders:
            return dict(self.saved)
        return {c: {"encoder": e.registry_name, **e.state()} for c, e in self.encoders.items()}
