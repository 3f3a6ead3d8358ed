"""CGC and PLE (Tang et al., "Progressive Layered Extraction", RecSys 2020).

Customized Gate Control: each task has its own experts plus experts shared by all tasks; task t's
gate mixes its own and the shared experts. PLE stacks CGC extraction levels: below the last level a
shared gate mixes every expert into the shared experts' input of the next level. The first
level's experts are the configured ``expert`` network (it reads the embedded features); deeper
levels use MLP experts of the same width.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import ConfigError, register
from mtfw.value_types import Count


class ExtractionLevel(nn.Module):
    def __init__(self, enc: Encoder, expert, in_dim: int | None, n_specific: int, n_shared: int,
                 last: bool):  # fmt: skip
        super().__init__()
        t = len(enc.task_names)
        self.t, self.k, self.s = t, n_specific, n_shared
        self.specific = enc.experts(expert, n=t * n_specific, in_dim=in_dim)
        self.shared = enc.experts(expert, n=n_shared, in_dim=in_dim)
        d = in_dim or enc.in_dim
        self.task_gates = nn.Parameter(torch.randn(t, d, n_specific + n_shared) * d**-0.5)
        self.task_gate_bias = nn.Parameter(torch.zeros(t, n_specific + n_shared))
        self.shared_gate = None if last else nn.Linear(d, t * n_specific + n_shared)
        self.out_dim = self.shared.out_dim

    def forward(self, task_in: Tensor, shared_in: Tensor) -> tuple[Tensor, Tensor | None, Tensor]:
        """task_in ``[B, d]`` (first level) or ``[B, T, d]``; shared_in ``[B, d]``."""
        b = shared_in.shape[0]
        per_task = task_in.dim() == 3
        spec_in = task_in.repeat_interleave(self.k, dim=1) if per_task else task_in
        specific = self.specific(spec_in)  # [B, T*k, h]
        shared = self.shared(shared_in)  # [B, s, h]
        experts = torch.cat(
            [specific.view(b, self.t, self.k, -1), shared[:, None].expand(-1, self.t, -1, -1)], 2
        )  # [B, T, k+s, h]
        if per_task:
            logits = torch.einsum("btd,tdk->btk", task_in, self.task_gates)
        else:
            logits = torch.einsum("bd,tdk->btk", task_in, self.task_gates)
        gates = (logits + self.task_gate_bias).softmax(-1)
        tasks = torch.einsum("btk,btkh->bth", gates, experts)
        new_shared = None
        if self.shared_gate is not None:
            g = self.shared_gate(shared_in).softmax(-1)  # over every expert
            new_shared = torch.einsum("be,beh->bh", g, torch.cat([specific, shared], 1))
        return tasks, new_shared, gates


@register("encoder", "ple")
class PLE(Encoder):
    """Progressive layered extraction: stacked CGC levels of task-specific and shared experts."""

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        levels: Count = 2,
        n_specific: Count = 2,
        n_shared: Count = 2,
        expert: dict | str | None = None,
    ):
        super().__init__(in_dim, task_names, layout)
        if levels < 1 or n_specific < 1 or n_shared < 1:
            raise ConfigError(
                f"ple/cgc need levels, n_specific and n_shared >= 1; got {levels}, "
                f"{n_specific}, {n_shared}"
            )
        self.levels = nn.ModuleList()
        width = None
        for i in range(levels):
            node = expert if i == 0 else {"name": "mlp", "hidden": [width]}
            level = ExtractionLevel(self, node, width, n_specific, n_shared, i == levels - 1)
            self.levels.append(level)
            width = level.out_dim
        self.out_dim = width

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        for level in self.levels:
            yield from level.shared.parameters()
            if level.shared_gate is not None:
                yield from level.shared_gate.parameters()

    def expert_names(self, level: int, task: str | None = None) -> list[str]:
        """``<task>/<i>`` for a task's own experts, ``shared/<j>`` for the shared ones (with
        ``level<l>:`` in front above the first level): every expert of ``level``, or those
        ``task``'s gate weighs there."""
        at, prefix = self.levels[level], f"level{level}:" if level else ""
        owners = [task] if task is not None else self.task_names
        own = [f"{prefix}{t}/{i}" for t in owners for i in range(at.k)]
        return own + [f"{prefix}shared/{j}" for j in range(at.s)]

    def field_experts(self, x: Tensor) -> tuple[list[str], Tensor]:
        first = self.levels[0]  # the level whose experts read the embedded fields
        return self.expert_names(0), torch.cat([first.specific(x), first.shared(x)], dim=1)

    def gate_experts(self, task: str) -> list[str]:
        return self.expert_names(len(self.levels) - 1, task)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        task_in, shared_in = x, x
        for level in self.levels:
            task_in, shared_in, gates = level(task_in, shared_in)
        # One unbind each: a select per task would copy each task's gradient into zeros.
        weights, outputs = gates.detach().unbind(1), task_in.unbind(1)
        self.last_gates = dict(zip(self.task_names, weights, strict=True))
        return dict(zip(self.task_names, outputs, strict=True))


@register("encoder", "cgc")
class CGC(PLE):
    """Customized gate control: one level of task-specific and shared experts (PLE's block)."""

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        n_specific: Count = 2,
        n_shared: Count = 2,
        expert: dict | str | None = None,
    ):
        super().__init__(in_dim, task_names, layout, 1, n_specific, n_shared, expert)
