"""The user table and the item catalogue of interaction data, row 0 reserved in each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from mtfw.data.batch import Inputs, take_rows


@dataclass
class UserTable:
    """Features of every known user; row 0 is all-unknown (a user given by features only)."""

    ids: list[str]  # raw id of row i + 1
    cat: Tensor
    num: Tensor
    text: tuple[Tensor, Tensor] | None = None  # text columns' ids and weights [U + 1, T, L]

    def inputs(self, uid: Tensor, history: Tensor) -> Inputs:
        """The model inputs of the users ``uid`` with their recent items ``history``."""
        text, weights = (
            (None, None) if self.text is None else (take_rows(t, uid) for t in self.text)
        )
        return Inputs(take_rows(self.cat, uid), take_rows(self.num, uid), uid=uid,
                      history=history, text=text, text_weights=weights)  # fmt: skip

    def to(self, device: torch.device) -> UserTable:
        text = None if self.text is None else tuple(t.to(device) for t in self.text)
        return UserTable(self.ids, self.cat.to(device), self.num.to(device), text)


@dataclass
class Catalogue:
    """Every item's features; row 0 is the padding item (never recommended)."""

    ids: list[str]  # raw id of row i + 1
    cat: Tensor  # [I + 1, F_cat]
    num: Tensor  # [I + 1, F_num]
    categories: Tensor  # [I + 1, G] multi-hot (genres): the interest task's label space
    category_names: list[str]
    text: tuple[Tensor, Tensor] | None = None  # text columns' ids and weights [I + 1, T, L]
    id_rows: Tensor | None = None  # [I + 1] the item's row of the id vocabulary (0: unknown)

    def __len__(self) -> int:
        return len(self.ids) + 1

    def to(self, device: torch.device) -> Catalogue:
        return Catalogue(
            self.ids,
            self.cat.to(device),
            self.num.to(device),
            self.categories.to(device),
            self.category_names,
            None if self.text is None else tuple(t.to(device) for t in self.text),
            None if self.id_rows is None else self.id_rows.to(device),
        )

    @property
    def n_ids(self) -> int:
        """Rows of the item-id vocabulary, the unknown row 0 included."""
        return len(self) if self.id_rows is None else int(self.id_rows.max()) + 1


def trained_id_rows(train_items: np.ndarray, n_items: int) -> Tensor:
    """The item-id vocabulary fitted on the training interactions: the items with one get rows
    1..V in catalogue order; every other item (and the padding row) the unknown row 0, so an item
    the model never trained on is represented by its features alone, never by an untrained id."""
    trained = np.unique(train_items)
    rows = torch.zeros(n_items, dtype=torch.long)
    rows[torch.from_numpy(trained)] = torch.arange(1, len(trained) + 1)
    return rows
