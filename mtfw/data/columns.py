"""Columnar tensors: a whole split of a flat table held as a few tensors, batched by index slices
(DESIGN §2)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from mtfw.data.batch import Batch, Inputs, index_batches, take_rows
from mtfw.data.transfer import to_device


@dataclass
class Columns:
    """One split of a flat table: categorical ids ``[N, F_cat]``, numeric features ``[N, F_num]``,
    per label column its values ``[N]``, and for labels some samples lack, a mask ``[N]`` (True
    where present); sequence columns (e.g. a user's recent items) as token ids ``[N, S, L]``;
    text columns as token ids and weights ``[N, T, L]``."""

    cat: Tensor
    num: Tensor
    labels: dict[str, Tensor]
    masks: dict[str, Tensor]
    seq: Tensor | None = None
    text: tuple[Tensor, Tensor] | None = None

    def __len__(self) -> int:
        return self.cat.shape[0]

    def take(self, index: Tensor | slice, generator: torch.Generator | None = None) -> Batch:
        seq = None if self.seq is None else take_rows(self.seq, index)
        text, weights = (
            (None, None) if self.text is None else (take_rows(t, index) for t in self.text)
        )
        cat, num = take_rows(self.cat, index), take_rows(self.num, index)
        return Batch(
            Inputs(cat, num, seq, text=text, text_weights=weights),
            {k: take_rows(v, index) for k, v in self.labels.items()},
            {k: take_rows(v, index) for k, v in self.masks.items()},
        )

    def to(self, device: torch.device) -> Columns:
        return Columns(
            to_device(self.cat, device),
            to_device(self.num, device),
            {k: to_device(v, device) for k, v in self.labels.items()},
            {k: to_device(v, device) for k, v in self.masks.items()},
            None if self.seq is None else to_device(self.seq, device),
            None if self.text is None else tuple(to_device(t, device) for t in self.text),
        )

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Batch]:
        return index_batches(self, batch_size, generator)

    def label_columns(self) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return self.labels, self.masks
