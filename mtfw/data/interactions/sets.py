"""The splits of interaction data: the training set (one row per training interaction, negatives
drawn per epoch; the history as each row's ``[L]`` items, or packed as windows of the users'
sequences when the history encoder asks: ``windows.py``) and the evaluation sets (one row per
evaluated user, who is ranked against the whole catalogue). Both follow the batch protocol of
every split (``mtfw.data.batch``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from mtfw.data.batch import Batch, Inputs, index_batches, take_rows
from mtfw.data.interactions.negatives import NegativeSampler
from mtfw.data.interactions.sparse import Sparse
from mtfw.data.interactions.tables import UserTable
from mtfw.data.interactions.windows import UserWindows
from mtfw.data.transfer import to_device


@dataclass
class TrainSet:
    """``labels``: the interaction's label columns the tasks asked for, and ``next_categories``
    ``[N, G]`` when a task asked for a category window. With a ``sampler``, each batch's
    ``candidates`` are the interacted item then freshly drawn negatives. The history is either
    ``history`` (each row's items) or ``windows`` (packed: a batch's ``inputs.history`` holds the
    windows serving its interactions and ``inputs.history_at`` where each one reads its state);
    either way a batch is the interactions ``index``, ``len(batch)`` of them."""

    users: UserTable
    uid: Tensor  # [N] the interaction's user row
    item: Tensor  # [N]
    history: Tensor | None  # [N, L] the user's training items before this one, most recent last
    labels: dict[str, Tensor]
    sampler: NegativeSampler | None
    windows: UserWindows | None = None  # set instead of ``history`` when packed

    def __len__(self) -> int:
        return self.uid.shape[0]

    def take(self, index: Tensor | slice, generator: torch.Generator | None = None) -> Batch:
        if isinstance(index, Tensor):
            index = index.to(self.uid.device)
        uid = take_rows(self.uid, index)
        items = take_rows(self.item, index)[:, None]
        if self.sampler is not None:
            generator = generator or torch.Generator().manual_seed(0)
            negatives = self.sampler.draw(uid.cpu(), generator).to(uid.device)
            items = torch.cat([items, negatives], dim=1)
        if self.windows is None:
            inputs = self.users.inputs(uid, take_rows(self.history, index))
        else:
            windows, at = self.windows.gather(index)
            inputs = self.users.inputs(uid, windows)
            inputs.history_at = at
        inputs.candidates = items
        return Batch(inputs, {k: take_rows(v, index) for k, v in self.labels.items()}, {})

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """Along a permutation drawn from ``generator`` (packed: of the windows, their
        interactions window by window), ``batch_size`` interactions each, the last one short."""
        if self.windows is None:
            yield from index_batches(self, batch_size, generator)
            return
        order, n = self.windows.order(generator), len(self)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            yield self.take(slice(start, stop) if order is None else order[start:stop], generator)

    def label_columns(self) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return self.labels, {}

    def to(self, device: torch.device) -> TrainSet:
        return TrainSet(
            self.users.to(device),
            to_device(self.uid, device),
            to_device(self.item, device),
            None if self.history is None else to_device(self.history, device),
            {k: to_device(v, device) for k, v in self.labels.items()},
            self.sampler,
            None if self.windows is None else self.windows.to(device),
        )


@dataclass
class EvalSet:
    """One row per evaluated user: their inputs at the cut (``users``), the items they already
    interacted with (``known``: never recommended, nor counted), the held-out items
    (``relevant``), the held-out interactions as pairs (``pair_row`` sorted, ``pair_item``,
    ``pair_labels``) and the categories of the held-out items (``categories``).

    A batch's labels: ``next_items`` ``[B, I]`` (the held-out items), ``next_categories``
    ``[B, G]``, each label column ``[P]`` of the batch's held-out pairs, and with ``ranked``
    ``unranked`` ``[B, I]`` (the items outside the candidates)."""

    users: Inputs
    known: Sparse
    relevant: Sparse
    pair_row: Tensor
    pair_item: Tensor
    pair_labels: dict[str, Tensor]
    categories: Tensor
    n_items: int
    ranked: Tensor | None = None  # [I] bool: the only items ranked (None: all)

    def __len__(self) -> int:
        return len(self.users)

    def take(self, index: slice, generator: torch.Generator | None = None) -> Batch:
        """The users ``index`` (a slice: evaluation walks the users in order)."""
        if not isinstance(index, slice):
            raise TypeError("an evaluation set is read in order, by slices of users")
        rows = slice(index.start, min(index.stop, len(self)))
        bounds = torch.tensor([rows.start, rows.stop], device=self.pair_row.device)
        lo, hi = torch.searchsorted(self.pair_row, bounds).tolist()
        inputs = self.users.rows(rows)
        inputs.known = self.known.dense(rows, self.n_items)
        inputs.pair_row, inputs.pair_item = self.pair_row[lo:hi] - rows.start, self.pair_item[lo:hi]
        labels = {k: v[lo:hi] for k, v in self.pair_labels.items()}
        labels["next_items"] = self.relevant.dense(rows, self.n_items)
        labels["next_categories"] = self.categories[rows]
        if self.ranked is not None:  # items outside the candidates: never ranked, nor counted
            labels["unranked"] = ~self.ranked.expand(rows.stop - rows.start, -1)
        return Batch(inputs, labels, {})

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Batch]:
        return index_batches(self, batch_size)

    def label_columns(self) -> None:
        return None  # per batch only: the held-out pairs of the batch's users

    def to(self, device: torch.device) -> EvalSet:
        return EvalSet(
            self.users.to(device),
            self.known.to(device),
            self.relevant.to(device),
            to_device(self.pair_row, device),
            to_device(self.pair_item, device),
            {k: to_device(v, device) for k, v in self.pair_labels.items()},
            to_device(self.categories, device),
            self.n_items,
            None if self.ranked is None else self.ranked.to(device),
        )
