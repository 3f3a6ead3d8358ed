"""What every split hands to the model and the tasks: batches of ``inputs``, ``labels``, ``masks``.

A flat table and interaction data differ only in which input fields are filled. A flat row is one
sample (its categorical ids, numeric features and token sequences); an interaction-data row is a
user at a point in time (the user's features and recent items), with the candidate items to score
when training and the items already known when evaluating. Every split — flat columns, the
training interactions, the per-user evaluation sets — offers the same protocol:
``len(split)``, ``split.batches(batch_size, generator)``, ``split.take(index)`` and
``split.to(device)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Protocol

import torch
from torch import Tensor

from mtfw import distributed
from mtfw.data.transfer import to_device


def take_rows(values: Tensor, index: Tensor | slice) -> Tensor:
    """Rows ``index`` of ``values``: ``index_select`` for a tensor of row numbers (on CPU several
    times faster than ``values[index]``, whose advanced-indexing kernel is generic), a view for a
    slice. The same values either way."""
    return values.index_select(0, index) if isinstance(index, Tensor) else values[index]


@dataclass
class Inputs:
    """The model's view of ``B`` rows. ``cat`` ``[B, F_cat]`` and ``num`` ``[B, F_num]`` always;
    ``seq`` ``[B, S, L]`` token ids of sequence columns (0 = empty); on interaction data ``uid``
    ``[B]`` (the user's row, 0 for a user known by features only) and ``history`` ``[B, L]``
    (recent items, most recent last, 0 = empty); for training on interaction data ``candidates``
    ``[B, C]`` (the interacted item, then the sampled negatives); for evaluating it ``known``
    ``[B, I]`` (items the user already interacted with: never recommended) and the held-out
    interactions of these users as pairs ``pair_row`` ``[P]`` (local row) and ``pair_item``;
    ``text`` ``[B, T, L]`` token ids of text columns and ``text_weights`` their weights (0 =
    padding; a row of zeros: an empty text). Packed training (``data/interactions/windows.py``):
    ``history`` ``[Wb, W]`` holds windows of the users' sequences, not rows, and ``history_at``
    ``[B]`` each row's position in them (an index into the flattened ``[Wb * W]``)."""

    cat: Tensor
    num: Tensor
    seq: Tensor | None = None
    uid: Tensor | None = None
    history: Tensor | None = None
    candidates: Tensor | None = None
    known: Tensor | None = None
    pair_row: Tensor | None = None
    pair_item: Tensor | None = None
    text: Tensor | None = None
    text_weights: Tensor | None = None
    history_at: Tensor | None = None

    def __len__(self) -> int:
        return self.cat.shape[0]

    def rows(self, index: Tensor | slice) -> Inputs:
        """The row-aligned fields of some rows (pair fields are per batch and not carried)."""
        if self.history_at is not None:
            raise TypeError("packed training inputs hold windows, not rows: take() instead")
        keep = ("cat", "num", "seq", "uid", "history", "candidates", "known", "text",
                "text_weights")  # fmt: skip
        values = {k: getattr(self, k) for k in keep}
        return Inputs(**{k: None if v is None else take_rows(v, index) for k, v in values.items()})

    def to(self, device: torch.device) -> Inputs:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{k: to_device(v, device) for k, v in moved.items() if v is not None})


@dataclass
class Batch:
    """``inputs`` for the model; ``labels`` the targets the tasks read, by name (a label column,
    or what the data prepared for a task's need, e.g. ``next_categories``); ``masks`` True where a
    sample carries a label that some samples lack (no mask: every sample carries it)."""

    inputs: Inputs
    labels: dict[str, Tensor]
    masks: dict[str, Tensor]

    def __len__(self) -> int:
        return len(self.inputs)

    def rows(self, index: Tensor | slice) -> Batch:
        """Some rows of a training batch (every label and mask is per row)."""
        return Batch(self.inputs.rows(index),
                     {k: take_rows(v, index) for k, v in self.labels.items()},
                     {k: take_rows(v, index) for k, v in self.masks.items()})  # fmt: skip


def rank_share(batch: Batch) -> tuple[Batch, int]:
    """This rank's contiguous rows of a global training batch under torchrun (every rank draws
    the same batches: the same seeded order, the same negatives), the batch itself otherwise;
    and how many rows are its own. A batch with fewer rows than ranks (an epoch's last) leaves
    some ranks none: they get its first row as a stand-in (models need a row), to weigh 0."""
    if not distributed.active():
        return batch, len(batch)
    mine = distributed.part(len(batch))
    rows = mine.stop - mine.start
    return batch.rows(mine if rows else slice(0, 1)), rows


class Split(Protocol):
    """The protocol of every split of every dataset."""

    def __len__(self) -> int: ...

    def take(self, index: Tensor | slice, generator: torch.Generator | None = None) -> Batch: ...

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> Iterator[Batch]: ...

    def to(self, device: torch.device) -> Split: ...

    def label_columns(self) -> tuple[dict[str, Tensor], dict[str, Tensor]] | None:
        """Every sample's label columns and masks (what a task fits its label statistics on),
        or None for a split whose labels exist per batch only (interaction evaluation sets)."""
        ...


def rank_batches(split: Split, batch_size: int) -> Iterator[Batch]:
    """The in-order batches of an evaluation; under torchrun this rank's contiguous run of them
    (the others' follow in rank order, so gathering restores one process's sequence)."""
    n = len(split)
    mine = distributed.part(-(-n // batch_size))
    for b in range(mine.start, mine.stop):
        yield split.take(slice(b * batch_size, min((b + 1) * batch_size, n)))


def index_batches(
    split: Split, batch_size: int, generator: torch.Generator | None = None
) -> Iterator[Batch]:
    """Batches along a permutation drawn from ``generator`` (in order without one); the last
    short batch is kept, so every row is seen once per pass. ``take`` receives the generator,
    so what a split draws per batch (negatives) depends on the seed and the epoch only."""
    n = len(split)
    order = None if generator is None else torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        if order is None:
            yield split.take(slice(start, min(start + batch_size, n)), generator)
        else:
            yield split.take(order[start : start + batch_size], generator)
