"""The training set (one row per training interaction, negatives drawn per epoch) and the
evaluation sets (one row per evaluated user, the whole catalogue ranked) of interaction data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor

from mtfw.errors import ConfigError
from mtfw.recsys.batch import RecBatch, Sparse, UserInputs


@dataclass
class UserTable:
    """Features of every known user; row 0 is all-unknown (a user given by features only)."""

    ids: list[str]  # raw id of row i + 1
    cat: Tensor
    num: Tensor

    def inputs(self, uid: Tensor, history: Tensor) -> UserInputs:
        return UserInputs(uid, self.cat[uid], self.num[uid], history)

    def to(self, device: torch.device) -> UserTable:
        return UserTable(self.ids, self.cat.to(device), self.num.to(device))


@dataclass
class Catalogue:
    """Every item's features; row 0 is the padding item (never recommended)."""

    ids: list[str]  # raw id of row i + 1
    cat: Tensor  # [I + 1, F_cat]
    num: Tensor  # [I + 1, F_num]
    categories: Tensor  # [I + 1, G] multi-hot (genres): the interest task's label space
    category_names: list[str]

    def __len__(self) -> int:
        return len(self.ids) + 1

    def to(self, device: torch.device) -> Catalogue:
        return Catalogue(
            self.ids,
            self.cat.to(device),
            self.num.to(device),
            self.categories.to(device),
            self.category_names,
        )


@dataclass
class NegativeSampler:
    """Items drawn for each training interaction: ``uniform`` over the catalogue, or ``popularity``
    (proportional to training count ** ``alpha``). Items the user interacted with in training are
    redrawn (up to 50 rounds; a user who has seen nearly every item may keep a collision)."""

    count: int
    n_items: int
    positives: Tensor  # sorted keys uid * n_items + item of the training interactions
    probabilities: Tensor | None = None  # None: uniform

    @classmethod
    def fit(
        cls, uid: Tensor, item: Tensor, n_items: int, count: int, kind: str, alpha: float
    ) -> NegativeSampler:
        """From the training interactions (``uid``, ``item``) and the ranking task's settings."""
        if kind not in ("uniform", "popularity"):
            raise ConfigError(f"task.ranking.sampler must be uniform or popularity, not '{kind}'")
        probabilities = None
        if kind == "popularity":
            probabilities = torch.bincount(item, minlength=n_items).double().pow(alpha)
            probabilities[0] = 0.0
        return cls(count, n_items, torch.sort(uid * n_items + item).values, probabilities)

    def draw(self, uid: Tensor, generator: torch.Generator) -> Tensor:
        shape = (uid.shape[0], self.count)
        out = self._draw(shape, generator)
        for _ in range(50):
            clash = self._is_positive(uid[:, None].expand(shape), out)
            if not clash.any():
                break
            out[clash] = self._draw((int(clash.sum()),), generator)
        return out

    def _draw(self, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
        if self.probabilities is None:
            return torch.randint(1, self.n_items, shape, generator=generator)
        n = int(torch.tensor(shape).prod())
        flat = torch.multinomial(self.probabilities, n, replacement=True, generator=generator)
        return flat.reshape(shape)

    def _is_positive(self, uid: Tensor, items: Tensor) -> Tensor:
        keys = uid * self.n_items + items
        pos = torch.searchsorted(self.positives, keys).clamp(max=len(self.positives) - 1)
        return self.positives[pos] == keys


@dataclass
class RecTrainSet:
    users: UserTable
    uid: Tensor  # [N] the interaction's user row
    item: Tensor  # [N]
    history: Tensor  # [N, L] the user's training items before this one, most recent last
    labels: dict[str, Tensor]  # interaction label columns, plus 'interest' [N, G]
    sampler: NegativeSampler

    def __len__(self) -> int:
        return self.uid.shape[0]

    def take(self, index: Tensor | slice, generator: torch.Generator | None = None) -> RecBatch:
        uid = self.uid[index]
        generator = generator or torch.Generator().manual_seed(0)
        negatives = self.sampler.draw(uid.cpu(), generator).to(uid.device)
        items = torch.cat([self.item[index, None], negatives], dim=1)
        labels = {k: v[index] for k, v in self.labels.items()}
        ranking = torch.zeros(items.shape, device=items.device)
        ranking[:, 0] = 1.0
        labels["ranking"] = ranking
        return RecBatch(self.users.inputs(uid, self.history[index]), items, labels, {})

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> Iterator[RecBatch]:
        """Shuffled when a generator is given; negatives come from the same generator, so the
        epoch's batches depend only on the seed and the epoch."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if generator is not None else None
        for start in range(0, n, batch_size):
            index = (
                slice(start, start + batch_size)
                if order is None
                else order[start : start + batch_size]
            )
            yield self.take(index.to(self.uid.device) if order is not None else index, generator)

    def to(self, device: torch.device) -> RecTrainSet:
        return RecTrainSet(
            self.users.to(device),
            self.uid.to(device),
            self.item.to(device),
            self.history.to(device),
            {k: v.to(device) for k, v in self.labels.items()},
            self.sampler,
        )


@dataclass
class RecEvalSet:
    """One row per evaluated user: their inputs at the cut, the items they already interacted with
    (``known``: never recommended, nor counted), the held-out items (``relevant``), the held-out
    interactions as pairs (``pair_row``, ``pair_item``, ``pair_labels``) and the categories of the
    held-out items (``interest``)."""

    users: UserInputs
    known: Sparse
    relevant: Sparse
    pair_row: Tensor
    pair_item: Tensor
    pair_labels: dict[str, Tensor]
    interest: Tensor
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.users)

    def batches(self, batch_size: int) -> Iterator[UserInputs]:
        return self.users.batches(batch_size)

    def to(self, device: torch.device) -> RecEvalSet:
        return RecEvalSet(
            self.users.to(device),
            self.known.to(device),
            self.relevant.to(device),
            self.pair_row.to(device),
            self.pair_item.to(device),
            {k: v.to(device) for k, v in self.pair_labels.items()},
            self.interest.to(device),
            self.info,
        )
