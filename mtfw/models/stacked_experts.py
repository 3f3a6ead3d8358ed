"""Expert banks whose ``n`` experts live in stacked parameters (an expert axis first), built from
``n`` ordinary torch modules so the initial values match theirs draw for draw, and loading
checkpoints written when the bank held those modules (one state-dict key per expert)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn


def stacked(tensors: list[Tensor], flat: bool = False) -> nn.Parameter:
    """One parameter ``[n, ...]`` from the experts' tensors (copied); ``flat`` merges the expert
    axis into the next, as a grouped convolution's weight ``[n * c_out, c_in, k]`` wants."""
    value = torch.stack([t.detach() for t in tensors]).clone()
    return nn.Parameter(value.flatten(0, 1) if flat else value)


@dataclass
class LegacyKeys:
    """A ``load_state_dict`` pre-hook: where a state dict has a per-expert key for each expert
    (``old[new] = [key of expert 0, key of expert 1, ...]``) and not the stacked one, stack them
    (transposing ``transposed`` ones' matrices, merging ``flat`` ones' first two axes)."""

    old: dict[str, list[str]]
    flat: set[str] = field(default_factory=set)
    transposed: set[str] = field(default_factory=set)

    def __call__(self, module: nn.Module, state: dict, prefix: str, *_: object) -> None:
        for new, keys in self.old.items():
            if prefix + new in state or not all(prefix + k in state for k in keys):
                continue  # a current checkpoint, or not this layout: load_state_dict says why
            parts = [state.pop(prefix + k) for k in keys]
            if new in self.transposed:
                parts = [t.T for t in parts]
            value = torch.stack(parts)
            state[prefix + new] = value.flatten(0, 1) if new in self.flat else value
