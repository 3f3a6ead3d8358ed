"""What the baselines trained by gradient descent on users' interaction vectors share (Mult-VAE,
CFGAN): seeded batches of users, dense layers, and the epoch loop's contract with the run.

:class:`EpochSelection` validates after each epoch (``validate(epoch, last, **losses)``, larger
is better), keeps a copy of the best validated state, stops after ``patience`` epochs without
improvement, and stops training as "diverged" when a loss is NaN/inf or ``EXPLODED`` times its
first value, or a network's parameters are not finite: :class:`BaselineDiverged` carries the last
good (best validated) state, which the fitter saves as ``baseline.pt``."""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from mtfw.errors import TrainingDiverged
from mtfw.trainer.divergence import EXPLODED


class BaselineDiverged(TrainingDiverged):
    """A trained baseline's loss or parameters stopped being finite; ``kept`` is the best
    validated state before it (None when no epoch was validated)."""

    def __init__(self, message: str, kept: dict[str, Tensor] | None):
        super().__init__(message)
        self.kept = kept


def user_batches(rows: Tensor, batch_size: int, generator: torch.Generator) -> Iterator[Tensor]:
    """``rows`` (user rows) in a permutation drawn from ``generator``, ``batch_size`` at a time."""
    order = rows[torch.randperm(len(rows), generator=generator)]
    yield from order.split(batch_size)


def dense_layers(dims: list[int], activation: type[nn.Module], last: nn.Module | None = None):
    """Linear layers ``dims[0] -> ... -> dims[-1]`` with ``activation`` between them (Xavier
    weights, as both papers' code); ``last`` after the final layer, if given."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(itertools.pairwise(dims)):
        linear = nn.Linear(d_in, d_out)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.normal_(linear.bias, std=0.001)
        layers.append(linear)
        if i < len(dims) - 2:
            layers.append(activation())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def l2(network: nn.Module, weights_only: bool = False) -> Tensor:
    """Sum of squared parameters (the weight matrices only with ``weights_only``)."""
    params = [p for n, p in network.named_parameters() if not weights_only or "weight" in n]
    return sum(p.pow(2).sum() for p in params)


class EpochSelection:
    """Validation, selection, patience and divergence for a trained baseline's epochs."""

    def __init__(
        self, name: str, state: Callable[[], dict[str, Tensor]],
        validate: Callable[..., float] | None, epochs: int, patience: int,
    ) -> None:  # fmt: skip
        self.name, self.state, self.validate = name, state, validate
        self.epochs, self.patience = epochs, patience
        self.best: float | None = None
        self.kept: dict[str, Tensor] | None = None
        self.kept_epoch, self.bad, self.first = 0, 0, {}

    def check_loss(self, what: str, loss: Tensor, epoch: int) -> None:
        """Raise :class:`BaselineDiverged` if ``loss`` is not finite or has exploded."""
        value = float(loss.detach())
        first = self.first.setdefault(what, max(abs(value), 1e-2))
        if math.isfinite(value) and value <= EXPLODED * first:
            return
        self.diverged(f"the {what} loss is {value:g} in epoch {epoch} (first {first:g})")

    def check_parameters(self, networks: dict[str, nn.Module], epoch: int) -> None:
        for what, network in networks.items():
            if not all(torch.isfinite(p).all() for p in network.parameters()):
                self.diverged(f"the {what} has non-finite parameters after epoch {epoch}")

    def diverged(self, what: str) -> None:
        kept = (f"baseline.pt of epoch {self.kept_epoch}, the best validated so far"
                if self.kept is not None else "nothing: no epoch was validated yet")  # fmt: skip
        raise BaselineDiverged(
            f"baseline={self.name}: {what}. Kept: {kept}, and the metrics so far. Lower the "
            "baseline's learning rate(s) or raise its regularisation",
            self.kept,
        )

    def after_epoch(self, epoch: int, last: bool = False, **losses: float) -> bool:
        """Validate epoch ``epoch`` (1-based) and keep it if best; True when patience ran out."""
        last = last or epoch == self.epochs
        value = self.validate(epoch, last, **losses) if self.validate is not None else epoch
        if self.best is None or value > self.best:
            self.best, self.kept_epoch, self.bad = value, epoch, 0
            self.kept = copy.deepcopy(self.state())
            return False
        self.bad += 1
        return self.bad >= self.patience
