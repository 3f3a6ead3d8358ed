"""Columnar tensors of recommendation data: users at a point in time, and training batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class UserInputs:
    """What the shared encoder sees of ``B`` users: their row in the user table (``uid``, 0 for a
    user given by features only), categorical ids ``[B, F_cat]``, numeric features ``[B, F_num]``
    and the items they interacted with before this point, ``[B, L]``, most recent last, 0 = empty.
    """

    uid: Tensor
    cat: Tensor
    num: Tensor
    history: Tensor

    def __len__(self) -> int:
        return self.uid.shape[0]

    def take(self, index: Tensor | slice) -> UserInputs:
        return UserInputs(self.uid[index], self.cat[index], self.num[index], self.history[index])

    def to(self, device: torch.device) -> UserInputs:
        return UserInputs(*(t.to(device) for t in (self.uid, self.cat, self.num, self.history)))

    def batches(self, batch_size: int) -> Iterator[UserInputs]:
        for start in range(0, len(self), batch_size):
            yield self.take(slice(start, start + batch_size))


@dataclass
class RecBatch:
    """A training batch: one row per interaction. ``items[:, 0]`` is the item interacted with and
    ``items[:, 1:]`` the negatives sampled for it; ``labels`` holds the interaction's label columns
    (``rating``), ``ranking`` (``[B, C]``, 1 in column 0) and ``interest`` (``[B, G]``)."""

    user: UserInputs
    items: Tensor
    labels: dict[str, Tensor]
    masks: dict[str, Tensor]

    def __len__(self) -> int:
        return len(self.user)


@dataclass
class Sparse:
    """Item lists of ``n`` rows in CSR form: row ``r`` holds ``items[indptr[r]:indptr[r+1]]``."""

    indptr: Tensor
    items: Tensor

    @classmethod
    def from_pairs(cls, rows: Tensor, items: Tensor, n: int) -> Sparse:
        order = torch.argsort(rows, stable=True)
        rows, items = rows[order], items[order]
        counts = torch.bincount(rows, minlength=n)
        return cls(torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]), items)

    @classmethod
    def empty(cls, n: int) -> Sparse:
        """``n`` rows without items."""
        return cls(torch.zeros(n + 1, dtype=torch.long), torch.zeros(0, dtype=torch.long))

    def lengths(self, rows: slice) -> Tensor:
        return self.indptr[rows.start + 1 : rows.stop + 1] - self.indptr[rows.start : rows.stop]

    def dense(self, rows: slice, n_items: int) -> Tensor:
        """A ``[rows, n_items]`` boolean matrix of the rows' items (one scatter, no Python loop)."""
        start, stop = self.indptr[rows.start], self.indptr[rows.stop]
        local = torch.repeat_interleave(
            torch.arange(rows.stop - rows.start, device=self.items.device), self.lengths(rows)
        )
        out = torch.zeros(
            rows.stop - rows.start, n_items, dtype=torch.bool, device=self.items.device
        )
        out[local, self.items[start:stop]] = True
        return out

    def to(self, device: torch.device) -> Sparse:
        return Sparse(self.indptr.to(device), self.items.to(device))
