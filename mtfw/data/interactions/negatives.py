"""Negative items for training on implicit feedback, drawn per interaction each epoch."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mtfw.data.needs import Negatives
from mtfw.errors import ConfigError

SAMPLERS = ("uniform", "popularity")


@dataclass
class NegativeSampler:
    """Items drawn for each training interaction: ``uniform`` over the items with a training
    interaction (an item held out of training is never shown to the model, not even as a
    negative), or ``popularity`` (proportional to training count ** ``alpha``). Items the user
    interacted with in training are redrawn (up to 50 rounds; a user who has seen nearly every
    item may keep a collision)."""

    count: int
    n_items: int
    positives: Tensor  # sorted keys uid * n_items + item of the training interactions
    probabilities: Tensor | None = None  # None: uniform
    pool: Tensor | None = None  # the items a uniform draw picks from (sorted); None: all

    @classmethod
    def fit(cls, uid: Tensor, item: Tensor, n_items: int, spec: Negatives) -> NegativeSampler:
        """From the training interactions (``uid``, ``item``) and what the task asked for."""
        if spec.sampler not in SAMPLERS:
            raise ConfigError(
                f"negative sampler must be uniform or popularity, not '{spec.sampler}'"
            )
        probabilities = None
        if spec.sampler == "popularity":
            counts = torch.bincount(item, minlength=n_items).double()
            probabilities = counts.pow(spec.alpha) * (counts > 0)
            probabilities[0] = 0.0
        keys = torch.sort(uid * n_items + item).values
        return cls(spec.count, n_items, keys, probabilities, torch.unique(item))

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
        if self.probabilities is None and self.pool is None:
            return torch.randint(1, self.n_items, shape, generator=generator)
        if self.probabilities is None:  # pool[randint(0, n)]: the same draws as randint(1, n + 1)
            return self.pool[torch.randint(0, len(self.pool), shape, generator=generator)]
        n = int(torch.tensor(shape).prod())
        flat = torch.multinomial(self.probabilities, n, replacement=True, generator=generator)
        return flat.reshape(shape)

    def _is_positive(self, uid: Tensor, items: Tensor) -> Tensor:
        keys = uid * self.n_items + items
        pos = torch.searchsorted(self.positives, keys).clamp(max=len(self.positives) - 1)
        return self.positives[pos] == keys
