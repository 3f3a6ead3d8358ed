"""Item lists per user (known items, held-out items) in CSR form: built without Python loops,
turned into ``[rows, items]`` masks one batch at a time."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


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
