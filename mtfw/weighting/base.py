"""The one-call weighting interface (DESIGN §5) and the helpers every method uses.

``weights = weighting.backward(losses, shared_params, representation=z)`` fills ``.grad`` of every
parameter and returns the ``[T]`` weights it used (detached; logged per step as ``weight/<task>``).
Loss-space methods derive from :class:`LossWeighting` and only define ``weights``; gradient-space
methods derive from :class:`~mtfw.weighting.gradient.GradientWeighting`. A method keeps any state
it needs (initial losses, histories, moving averages) in buffers, so checkpoints hold it and a
resumed run continues exactly; learnable weighting parameters are ordinary module parameters the
optimizer updates. ``task.<name>.weight`` (``user_weights``) multiplies every method's weights.

Random methods draw from the weighting's own ``generator`` (seeded from the run's seed, kept in
checkpoints), never from torch's global one, which dropout consumes by the rank's batch share: so
every rank of a distributed run draws the same. Under ``torchrun`` the losses are the global
batch's (``mtfw.distributed.global_losses``); what a method computes from them (weights, DWA's
history, FAMO's logits, GradNorm's initial losses) is therefore identical on every rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from mtfw.errors import ConfigError
from mtfw.registry import closest


def choose(value: str, choices: Sequence[str], what: str) -> str:
    """``value`` if it is one of ``choices``, else a ConfigError naming them."""
    if value not in choices:
        raise ConfigError(
            f"{what} must be one of {', '.join(map(str, choices))}, not {value!r}."
            f"{closest(str(value), [str(c) for c in choices])}"
        )
    return value


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def per_task(
    value: float | Mapping[str, float], task_names: Sequence[str], what: str, default: float
) -> Tensor:
    """A per-task setting given as one number or as ``{task: number}`` (unlisted: ``default``)."""
    if not isinstance(value, Mapping):
        return torch.full((len(task_names),), float(value))
    for name in value:
        require(
            name in task_names,
            f"{what} names task '{name}', which is not selected; tasks: "
            f"{', '.join(task_names)}.{closest(str(name), list(task_names))}",
        )
    return torch.tensor([float(value.get(n, default)) for n in task_names])


class Weighting(nn.Module):
    """Base of the ``weighting`` registry kind."""

    def __init__(self, task_names: Sequence[str], task_weights: Sequence[float]):
        super().__init__()
        self.task_names = list(task_names)
        # The user's task.<name>.weight values, in the order of ``task_names``.
        self.register_buffer("user_weights", torch.tensor(list(task_weights), dtype=torch.float32))
        self.generator = torch.Generator().manual_seed(torch.initial_seed())
        # Parameters whose .grad the last backward left global already (no further all-reduce).
        self.global_parameters: list[Tensor] = []

    def get_extra_state(self) -> dict:
        return {"generator": self.generator.get_state()}

    def set_extra_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"])

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        missing = args[2]  # (local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        if prefix + "_extra_state" in missing:  # a checkpoint from before the own generator
            missing.remove(prefix + "_extra_state")

    def backward(
        self,
        losses: Tensor,
        shared_params: Sequence[Tensor],
        representation: Tensor | Sequence[Tensor] | None = None,
    ) -> Tensor:
        """Back-propagate the combined objective of ``losses`` ``[T]``; return the weights used.

        ``representation`` is the encoder's shared output of this forward pass (used by
        gradient-space methods in representation mode; ignored otherwise)."""
        raise NotImplementedError


class LossWeighting(Weighting):
    """Weights computed from the losses alone; the objective is their weighted sum."""

    def weights(self, losses: Tensor) -> Tensor:
        raise NotImplementedError

    def objective(self, losses: Tensor, weights: Tensor) -> Tensor:
        return (weights * losses).sum()

    def backward(
        self,
        losses: Tensor,
        shared_params: Sequence[Tensor],
        representation: Tensor | Sequence[Tensor] | None = None,
    ) -> Tensor:
        weights = self.weights(losses)
        self.objective(losses, weights).backward()
        return weights.detach()
