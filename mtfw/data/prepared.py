"""What preparing any dataset returns: the splits, the fitted preprocessing, the record's data
keys, and the context tasks and the model are built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd
from torch import Tensor

from mtfw.data.batch import Split
from mtfw.data.interactions.popularity import ItemPopularity
from mtfw.data.interactions.tables import Catalogue, UserTable
from mtfw.data.text.field import TextField


@dataclass(frozen=True)
class InputSpec:
    """The input fields of the model's rows: one categorical field per vocabulary (sizes include
    the unknown id 0), ``n_numeric`` numbers, one pooled field per sequence vocabulary, and on
    interaction data the user's last ``history_length`` items; one field per text column
    (``text``: what its model-side pooling needs). ``names``: the column each categorical,
    sequence, text and numeric field comes from, in that order (what ``mtfw explain`` reports
    them as)."""

    vocab_sizes: list[int]
    n_numeric: int
    sequence_vocab_sizes: list[int] = field(default_factory=list)
    history_length: int = 0
    names: list[str] = field(default_factory=list)
    text: list[TextField] = field(default_factory=list)


@dataclass
class DataContext:
    """What tasks and the model know of the data beyond the splits: the input fields, the mean of
    each label column on train, and on interaction data the item catalogue (ids, features,
    categories), the user table, every interaction (for ``mtfw recommend``) and the items'
    training popularity. ``item_vectors`` are the evaluated model's item representations
    (``[I + 1, D]``), set by the evaluation loop for the metrics that read them; None when the
    model has none."""

    inputs: InputSpec
    label_means: dict[str, float] = field(default_factory=dict)
    items: Catalogue | None = None
    item_inputs: InputSpec | None = None
    users: UserTable | None = None
    interactions: pd.DataFrame | None = None
    popularity: ItemPopularity | None = None
    item_vectors: Tensor | None = None

    @property
    def catalogue_size(self) -> int:
        """Items that can be recommended (the padding row 0 is not one)."""
        return 0 if self.items is None else len(self.items) - 1

    @property
    def category_names(self) -> list[str]:
        return [] if self.items is None else list(self.items.category_names)


class Preprocessing(Protocol):
    """Fitted preprocessing, saved as ``preprocess.json`` with the run."""

    def to_dict(self) -> dict: ...

    def save(self, path: Path) -> None: ...


@dataclass
class PreparedData:
    splits: dict[str, Split]  # train, val, test
    preprocessor: Preprocessing
    info: dict  # data/... keys of summary.json
    context: DataContext
