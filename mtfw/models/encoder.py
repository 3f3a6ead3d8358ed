"""The base of every shared encoder (the MTL architecture): input -> one representation per task."""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor, nn


class Encoder(nn.Module):
    """Maps ``[B, in_dim]`` to ``{task: [B, out_dim]}``.

    Subclasses set ``out_dim``; gated encoders also keep the gate weights of the last batch in
    ``last_gates`` (``{task: [B, E]}``) for expert-utilisation reports."""

    out_dim: int
    last_gates: dict[str, Tensor] | None = None

    def __init__(self, in_dim: int, task_names: list[str]):
        super().__init__()
        self.in_dim, self.task_names = in_dim, list(task_names)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters shared by several tasks: those whose per-task gradients weightings compare."""
        return self.parameters()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError
