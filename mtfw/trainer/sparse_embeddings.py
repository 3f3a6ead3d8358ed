"""``optim.sparse_embeddings=true``: categorical embedding tables learn by their batch rows only.

The tables of the input module (every categorical field's rows, and the sequence columns'
tokens) produce sparse gradients (``nn.Embedding(sparse=True)``: only the rows a batch looks up)
and are updated by ``torch.optim.SparseAdam`` with the configured ``lr`` and ``betas``; every
other parameter keeps the configured optimizer. SparseAdam is Adam with lazy moments: a row's
moments and its bias correction advance only at the steps whose batch holds it, so a step costs
the batch's rows, not the table's. Where every row of a table is in every batch, the result is
dense Adam's (``tests/test_sparse_embeddings.py``). ``optim.weight_decay`` applies to the dense
parameters only (SparseAdam has none).

Works with every weighting: loss-space methods and ``mode=representation`` backpropagate once;
gradient-space methods in ``mode=parameters`` read each task's gradient of the tables densely (the
same ``[T, P]`` cost as without sparse tables) and hand the combined rows back as a sparse gradient.
Under torchrun the tables' gradients are averaged over the ranks on the union of the rows they
looked up (``mtfw/distributed/sparse_gradients.py``), so every rank's SparseAdam takes the
one-process step. Refused, before any data loads: ``trainer.grad_clip`` (clip_grad_norm_ has no
sparse kernel) and ``trainer.compile`` (an untested combination).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from omegaconf import DictConfig
from torch import nn

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.models.embedding import FeatureEmbedding
from mtfw.trainer.config import TrainerConfig


class DenseAndSparse:
    """The configured optimizer for the dense parameters beside SparseAdam for the tables: one
    optimizer to the loop (``zero_grad``, ``step``, ``state_dict`` holding both)."""

    def __init__(self, dense: torch.optim.Optimizer, sparse: torch.optim.SparseAdam):
        self.dense, self.sparse = dense, sparse

    @property
    def param_groups(self) -> list[dict]:
        return [*self.dense.param_groups, *self.sparse.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.dense.zero_grad(set_to_none=set_to_none)
        self.sparse.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.dense.step()
        self.sparse.step()

    def state_dict(self) -> dict[str, Any]:
        return {"dense": self.dense.state_dict(), "sparse": self.sparse.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.dense.load_state_dict(state["dense"])
        self.sparse.load_state_dict(state["sparse"])


def sparse_tables(model: nn.Module) -> list[nn.Embedding]:
    """The embedding tables of the model's input modules, read by lookups only."""
    tables: list[nn.Embedding] = []
    for module in model.modules():
        if isinstance(module, FeatureEmbedding):
            tables += [module.table, *module.sequences]
    return tables


def check_sparse_embeddings(cfg: DictConfig, trainer: TrainerConfig) -> None:
    """Refuse the combinations that cannot work, before any data loads."""
    if not cfg.optim.get("sparse_embeddings", False):
        return
    refused = [
        (trainer.grad_clip, "trainer.grad_clip (torch's clip_grad_norm_ has no sparse kernel)"),
        (trainer.compile, "trainer.compile=true (untested with sparse gradients)"),
        (cfg.get("baseline") is not None, "a classical baseline (it has no optimizer)"),
    ]
    for on, what in refused:
        if on:
            raise ConfigError(
                f"optim.sparse_embeddings=true cannot be combined with {what}: drop one of "
                "them. Sparse embedding updates work with every weighting, in both modes, in "
                "one process or under torchrun, without gradient clipping"
            )


def build_optimizer(cfg: DictConfig, model: nn.Module, extra: Iterable[nn.Parameter]) -> Any:
    """The configured optimizer over the model's and the weighting's (``extra``) parameters,
    or with ``optim.sparse_embeddings`` that optimizer beside SparseAdam for the tables."""
    params = [*model.parameters(), *extra]
    if not cfg.optim.get("sparse_embeddings", False):
        return registry.build("optim", cfg.optim, where="optim", params=params)
    tables = [t for t in sparse_tables(model) if t.weight.requires_grad]
    if not tables:  # no categorical field: nothing to update sparsely
        return registry.build("optim", cfg.optim, where="optim", params=params)
    for table in tables:
        table.sparse = True
    sparse_ids = {id(t.weight) for t in tables}
    dense = [p for p in params if id(p) not in sparse_ids]
    optimizer = registry.build("optim", cfg.optim, where="optim", params=dense)
    betas = tuple(cfg.optim.get("betas", (0.9, 0.999)))
    sparse = torch.optim.SparseAdam([t.weight for t in tables], lr=cfg.optim.lr, betas=betas)
    return DenseAndSparse(optimizer, sparse)
