"""Running a model from its embedded input: what both attribution methods need.

The model's input module turns a batch's raw inputs into the embedded input (field embeddings,
the history vector, numeric features) that the encoder reads. ``inputs_replaced`` stands another
module in for it for a block: one that hands out rows computed beforehand (a split's embedded
input with one field shuffled across the rows) or one that returns a given tensor (the points on
the integrated-gradients path). Everything after the input module, heads and item side included,
runs as in training and evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import torch
from torch import Tensor, nn

from mtfw.data.batch import Batch, Inputs, Split
from mtfw.trainer.evaluate import eval_mode


class SplitRows(nn.Module):
    """Hands out ``rows`` (a split's embedded input, ``[N, ...]``) batch after batch, in the
    order the split's batches come without a generator (evaluation's order)."""

    def __init__(self, rows: Tensor):
        super().__init__()
        self.rows, self.cursor = rows, 0

    def forward(self, inputs: Inputs, items: nn.Module | None = None) -> Tensor:
        n = len(inputs)
        out = self.rows[self.cursor : self.cursor + n]
        self.cursor += n
        return out


class GivenInput(nn.Module):
    """Returns ``value``, whatever the batch: the embedded input an attribution method chose."""

    value: Tensor | None = None

    def forward(self, inputs: Inputs, items: nn.Module | None = None) -> Tensor:
        return self.value


@contextmanager
def inputs_replaced(model: nn.Module, module: nn.Module) -> Iterator[None]:
    """``model.inputs`` is ``module`` inside the block, the model's own input module after."""
    original = model.inputs
    model.inputs = module
    try:
        yield
    finally:
        model.inputs = original


@torch.no_grad()
def embed_split(model: nn.Module, split: Split, batch_size: int) -> Tensor:
    """The embedded input of every row of ``split`` (dropout off), ``[N, ...]``."""
    with eval_mode(model):
        parts = [model.inputs(b.inputs, model.items) for b in split.batches(batch_size)]
    return torch.cat(parts)


def tiled(batch: Batch, reps: int) -> Batch:
    """``batch`` repeated ``reps`` times along the rows (the held-out pairs with their rows), as
    an attribution method stacks the points of its path."""
    if reps == 1:
        return batch
    inputs, n = batch.inputs, len(batch)
    rows = {k: None if v is None else torch.cat([v] * reps)
            for k, v in vars(inputs.rows(slice(None))).items()}  # fmt: skip
    if inputs.pair_row is not None:
        offsets = torch.arange(reps, device=inputs.pair_row.device) * n
        rows["pair_row"] = (inputs.pair_row[None] + offsets[:, None]).flatten()
        rows["pair_item"] = torch.cat([inputs.pair_item] * reps)
    return replace(batch, inputs=replace(inputs, **rows), labels={}, masks={})


def row_scalar(output: Tensor, inputs: Inputs, n_rows: int) -> Tensor:
    """One number per row of a task's evaluation output, ``[n_rows]``, the quantity attributed:

    - one value per row (a logit, a log-rate, a standardised regression output): itself;
    - one value per held-out pair (rating, like on interaction data): the mean over the row's
      pairs (0 for a row without one);
    - several values per row (one logit per category, a score per catalogue item): the margin of
      the row's best entry over its mean entry, items the user already knows left out. A
      ranking is unchanged by adding a constant to a row, and so is this margin."""
    if output.dim() == 1 and output.shape[0] == n_rows:
        return output
    if output.dim() == 1:  # per held-out pair
        rows = inputs.pair_row
        sums = torch.zeros(n_rows, dtype=output.dtype, device=output.device)
        counts = torch.zeros_like(sums).index_add_(0, rows, torch.ones_like(output))
        return sums.index_add(0, rows, output) / counts.clamp(min=1)
    allowed = torch.ones_like(output, dtype=torch.bool)
    if inputs.known is not None and inputs.known.shape == output.shape:
        allowed = ~inputs.known
    best = output.masked_fill(~allowed, float("-inf")).max(1).values
    mean = (output * allowed).sum(1) / allowed.sum(1).clamp(min=1)
    return best - mean
