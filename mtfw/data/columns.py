"""Columnar tensors: a whole split held as a few tensors, batched by index slices (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Columns:
    """One split: categorical ids ``[N, F_cat]``, numeric features ``[N, F_num]``, per label
    column its values ``[N]``, and for labels some samples lack, a mask ``[N]`` (True where
    present); sequence columns (a user's history) as token ids ``[N, S, L]``, 0 = empty."""

    cat: Tensor
    num: Tensor
    labels: dict[str, Tensor]
    masks: dict[str, Tensor]
    seq: Tensor | None = None

    def __len__(self) -> int:
        return self.cat.shape[0]

    def take(self, index: Tensor | slice) -> Columns:
        return Columns(
            self.cat[index],
            self.num[index],
            {k: v[index] for k, v in self.labels.items()},
            {k: v[index] for k, v in self.masks.items()},
            None if self.seq is None else self.seq[index],
        )

    def to(self, device: torch.device) -> Columns:
        return Columns(
            self.cat.to(device),
            self.num.to(device),
            {k: v.to(device) for k, v in self.labels.items()},
            {k: v.to(device) for k, v in self.masks.items()},
            None if self.seq is None else self.seq.to(device),
        )

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> Iterator[Columns]:
        """Index slices along a permutation (shuffled when a generator is given).

        The last short batch is kept: every sample is seen once per epoch."""
        n = len(self)
        if generator is None:
            for start in range(0, n, batch_size):
                yield self.take(slice(start, start + batch_size))
            return
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            yield self.take(order[start : start + batch_size])
