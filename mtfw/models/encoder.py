"""The base of every shared encoder (the MTL architecture): input -> one representation per task."""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor, nn


class Encoder(nn.Module):
    """Maps ``[B, in_dim]`` to ``{task: [B, out_dim]}``.

    Subclasses set ``out_dim``, and in ``forward`` keep ``shared_output``: the tensor computed by
    ``shared_parameters()`` alone that every task consumes (a shared bottom's output, MMoE's expert
    outputs). Gradient-space weightings compare per-task gradients on the shared parameters, or,
    in representation mode, on ``shared_output``. Gated encoders also keep the gate weights of the
    last batch in ``last_gates`` (``{task: [B, E]}``) for expert-utilisation reports."""

    out_dim: int
    shared_output: Tensor | None = None
    last_gates: dict[str, Tensor] | None = None

    def __init__(self, in_dim: int, task_names: list[str]):
        super().__init__()
        self.in_dim, self.task_names = in_dim, list(task_names)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters shared by several tasks (upstream of ``shared_output``): those whose
        per-task gradients weightings compare. Task-specific parts (gates, towers) are not."""
        return self.parameters()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError
