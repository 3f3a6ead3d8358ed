"""The base of every shared encoder (the MTL architecture): input -> one representation per task."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from torch import Tensor, nn

from mtfw import registry
from mtfw.models.layout import InputLayout

DEFAULT_EXPERT = {"name": "mlp", "hidden": [64]}


class Encoder(nn.Module):
    """Maps ``[B, in_dim]`` to ``{task: [B, out_dim]}``.

    Subclasses set ``out_dim``, and in ``forward`` keep ``shared_output``: the tensor computed by
    ``shared_parameters()`` alone that every task consumes (a shared bottom's output, MMoE's expert
    outputs), or leave it None where no single such tensor exists (PLE, cross-stitch).
    Gradient-space weightings compare per-task gradients on the shared parameters, or, in
    representation mode, on ``shared_output``. Gated encoders also keep the gate weights of the
    last batch in ``last_gates`` (``{task: [B, E]}``) for expert-utilisation reports.

    ``independent_inputs = True`` asks the model for one embedding per task (input ``[B, T, d]``).
    ``requires``: what the data must provide (checked with the tasks' needs, before data loads).
    """

    out_dim: int
    requires: ClassVar[frozenset[str]] = frozenset()
    shared_output: Tensor | None = None
    last_gates: dict[str, Tensor] | None = None
    independent_inputs = False

    def __init__(self, in_dim: int, task_names: list[str], layout: InputLayout | None = None):
        super().__init__()
        self.in_dim, self.task_names, self.layout = in_dim, list(task_names), layout

    def experts(self, node: dict | str | None, n: int, in_dim: int | None = None) -> nn.Module:
        """A bank of ``n`` expert networks from an ``expert:`` config node; ``in_dim`` is given
        for deeper layers, whose input is no longer the embedded fields."""
        layout = self.layout if in_dim is None else None  # fields exist at the input only
        in_dim = self.in_dim if in_dim is None else in_dim
        node = DEFAULT_EXPERT if node is None else node
        return registry.build("expert", node, where="encoder.expert", n=n, in_dim=in_dim,
                              layout=layout)  # fmt: skip

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters shared by several tasks: those whose per-task gradients weightings compare.
        Task-specific parts (a task's own gate, its tower) are not."""
        return self.parameters()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    # Hooks for gated encoders, read by ``mtfw explain`` (field -> expert -> task).
    def field_experts(self, x: Tensor) -> tuple[list[str], Tensor] | None:
        """The experts that read the embedded input ``x`` itself, as (their names, outputs
        ``[B, E, h]``); None for an encoder without experts."""
        return None

    def gate_experts(self, task: str) -> list[str]:
        """The names of the experts task ``task``'s gate weighs, in the order of its gate
        weights (``gate/<task>/<i>``); empty for an encoder without gates."""
        return []

    # Hooks for structural models whose tasks depend on each other (ESMM, AITM).
    def borrowed_heads(self) -> set[str]:
        """Tasks that get no head of their own: ``combine`` fills their output from others'."""
        return set()

    def combine(self, raw: dict[str, Tensor]) -> dict[str, Tensor]:
        """Final per-task outputs from the heads' raw outputs (ESMM: pCTCVR = pCTR x pCVR)."""
        return raw

    def auxiliary_losses(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        """Extra loss terms per task, added to that task's loss (AITM's calibrator)."""
        return {}
