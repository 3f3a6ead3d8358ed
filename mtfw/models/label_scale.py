"""How a task's label relates to what its head outputs: a transform and train statistics, kept as
buffers of the head so that checkpoints carry them.

A regression head outputs ``z``, the label in standard units: ``z = (f(y) - shift) / scale`` with
``f`` the task's ``transform`` (identity, or ``log1p``), ``shift`` and ``scale`` the mean and
standard deviation of ``f(y)`` over the labelled train rows (0 and 1 with ``standardize: false``).
The loss compares ``z`` with the standardised label; predictions go back to the label's own units
with ``f^-1(z * scale + shift)``, so metrics read in those units. A count head's output plus
``shift`` (the log of the mean train count) is its log-rate.

The statistics are fitted once on train when the run is built and saved in ``best.pt`` and
``checkpoint.pt`` with the head: a resumed run, ``mtfw recommend`` and any later evaluation load
the numbers the model was trained with.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mtfw.data.batch import Inputs
from mtfw.metrics.exact import exact_mean
from mtfw.models.heads import Head
from mtfw.models.items import ItemEmbedding

TRANSFORMS = ("none", "log1p")


def forward_transform(name: str, y: Tensor) -> Tensor:
    return torch.log1p(y) if name == "log1p" else y


def inverse_transform(name: str, v: Tensor) -> Tensor:
    return torch.expm1(v) if name == "log1p" else v


class LabelScale(nn.Module):
    """``encode(y) = (f(y) - shift) / scale`` and its inverse ``decode``; ``shift`` and ``scale``
    are buffers (identity until :meth:`fit`)."""

    def __init__(self, transform: str = "none"):
        super().__init__()
        self.transform = transform
        self.register_buffer("shift", torch.tensor(0.0, dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(1.0, dtype=torch.float64))

    def fit(self, y: Tensor, standardize: bool = True) -> LabelScale:
        """Mean and (population) standard deviation of ``f(y)``, exactly rounded so the figures
        do not depend on the thread count; a constant label keeps scale 1."""
        values = forward_transform(self.transform, y.detach().double().cpu())
        if standardize and values.numel():
            mean = exact_mean(values)
            std = math.sqrt(exact_mean((values - mean) ** 2))
            self.shift.fill_(mean)
            self.scale.fill_(std if std > 0 else 1.0)
        return self

    def encode(self, y: Tensor) -> Tensor:
        """The label in the head's units (standardised, after the transform)."""
        z = (forward_transform(self.transform, y.double()) - self.shift) / self.scale
        return z.to(y.dtype)

    def decode(self, z: Tensor) -> Tensor:
        """The head's output in the label's own units."""
        v = z.double() * self.scale + self.shift
        return inverse_transform(self.transform, v).to(z.dtype)

    def extra_repr(self) -> str:
        shift, scale = self.shift.item(), self.scale.item()
        return f"transform={self.transform}, shift={shift:.6g}, scale={scale:.6g}"


class ScaledHead(Head):
    """A head with its label's scale: outputs what ``head`` outputs; holds ``scale`` so that the
    model's state (``best.pt``, ``checkpoint.pt``) carries the statistics."""

    def __init__(self, head: Head, scale: LabelScale):
        super().__init__()
        self.head, self.scale = head, scale

    def forward(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self.head(rep, inputs, items)

    def evaluate(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self.head.evaluate(rep, inputs, items)
