"""The base of classical recommenders (the ``baseline`` kind).

A baseline is a model like any other: it is built from the prepared data, its ``fit`` replaces
the gradient loop, and its ``eval_outputs`` (every catalogue item scored for each evaluated user)
feeds the same evaluation, so the same split, metric keys and report compare them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor, nn

from mtfw.data.batch import Batch, Inputs, Split
from mtfw.data.prepared import PreparedData


class Baseline(nn.Module):
    """Fitted on the training interactions; scores ``[B, I]`` for the users of a batch."""

    requires: ClassVar[frozenset[str]] = frozenset({"users", "items", "interactions"})
    outputs_kind: ClassVar[str] = "item_scores"  # what tasks evaluated on it must read

    def __init__(self, seed: int = 0, task_names: list[str] = ()):
        super().__init__()
        self.seed, self.task_names = seed, list(task_names)

    def fit(self, data: PreparedData, validate: Callable[..., float] | None = None) -> None:
        """Learn from ``data.splits['train']``; a trained baseline calls ``validate(epoch,
        last)`` after each epoch (larger is better) to select its epoch on validation; ``last``
        when its epoch budget is spent."""
        train = data.splits["train"]
        self.n_items = len(data.context.items)
        # Users x items, 1 where the user interacted with the item in training.
        self.matrix = torch.zeros(len(data.context.users.ids) + 1, self.n_items)
        self.matrix[train.uid.cpu(), train.item.cpu()] = 1.0
        self.matrix[:, 0] = 0.0

    def score(self, inputs: Inputs) -> Tensor:
        """``[B, I]`` scores of every item for the users of ``inputs``."""
        raise NotImplementedError

    def eval_outputs(self, batch: Batch, only: list[str] | None = None) -> dict[str, Tensor]:
        scores = self.score(batch.inputs)
        return {name: scores for name in self.task_names if only is None or name in only}

    def item_vectors(self) -> Tensor | None:
        """``[I + 1, D]`` item representations, for models that learn them (BPR-MF's factors)."""
        return None

    def gate_utilisation(self, split: Split, batch_size: int) -> dict[str, float]:
        return {}  # no experts, no gates

    def state(self) -> dict[str, Tensor]:
        """Tensors that reproduce the fitted model (saved as ``baseline.pt``)."""
        return {"matrix": self.matrix}

    def load_state(self, state: dict[str, Tensor]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
        self.n_items = self.matrix.shape[1]


def known(inputs: Inputs) -> Tensor:
    """``[B, I]`` float: the items each user already interacted with at the cut."""
    return inputs.known.float().cpu()


def normalise_rows(x: Tensor) -> Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)


def keep_top(x: Tensor, k: int) -> Tensor:
    """``x`` with all but the ``k`` largest entries of each row set to 0."""
    if k >= x.shape[1]:
        return x
    values, index = x.topk(k, dim=1)
    return torch.zeros_like(x).scatter_(1, index, values)
