"""Gradient-space weighting: per-task gradients in, one update direction out (DESIGN §5).

:class:`GradientWeighting` owns the plumbing, so a method only maps per-task gradients (most often
just their Gramian ``K = G G^T``) to weights:

- ``mode: parameters`` (default): the gradient of each task's objective on the shared parameters,
  one backward pass per task. Every other parameter (towers, MMoE gates) accumulates the gradient of
  each task that reaches it, so a task-specific part gets exactly its own task's gradient.
- ``mode: representation``: the gradient of each task's objective on the encoder's shared output
  ``z`` (MGDA-UB's trick), computed through the task-specific layers only; the combined gradient is
  then written into ``z`` by a tensor hook during one ordinary backward pass of the summed
  objectives, which carries it through the encoder once instead of once per task. Gradients that
  reach shared parameters without passing through ``z`` (MMoE's gates read the embedding) enter
  unweighted, as in that single backward pass of the sum.

A task whose gradient is exactly zero in a batch (no sample carries its label: PLE's per-task
masks) sits out with weight 0. Without shared parameters (``single_task``) each task trains its own.

Under ``torchrun`` each rank holds a share of the global batch, and a method combines the gradients
of the global batch: in ``parameters`` mode one all-reduce of the ``[T, P]`` per-task gradients; in
``representation`` mode, where rows are samples, one all-reduce of the ``T x T`` Gramian (additive
over samples) for a method that only reads it, or, for one whose ``combine`` reads the gradients
themselves (GradNorm's norms, GradDrop's signs), the rows of every rank gathered into the global
batch's gradient. Each rank then writes its own rows' part of the combined direction, and the loop
averages what the backward pass leaves (``mtfw.distributed``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor

from mtfw import distributed
from mtfw.errors import ConfigError
from mtfw.weighting.base import Weighting, choose
from mtfw.weighting.mixed_precision import replacement, unscaled

MODES = ("parameters", "representation")


def task_gradients(objectives: Tensor, inputs: Sequence[Tensor]) -> Tensor:
    """``[T, N]``: row t is the gradient of ``objectives[t]`` on ``inputs``, flattened. Leaves
    ``.grad`` untouched; an input that a task does not reach gets zeros."""
    sizes = [x.numel() for x in inputs]
    rows = objectives.new_zeros(len(objectives), sum(sizes))  # the losses' dtype (autocast: fp32)
    for t, objective in enumerate(objectives):
        if not objective.requires_grad:
            continue
        grads = torch.autograd.grad(objective, inputs, retain_graph=True, allow_unused=True)
        for piece, g in zip(rows[t].split(sizes), grads, strict=True):
            if g is not None:  # a sparse table's gradient (optim.sparse_embeddings): densely
                piece.copy_((g.to_dense() if g.is_sparse else g).reshape(-1))
    return rows


def cosine_matrix(gramian: Tensor) -> Tensor:
    """Pairwise cosine similarities from a Gramian (0 where a gradient is zero)."""
    norms = gramian.diagonal().clamp(min=0).sqrt()
    return gramian / (norms[:, None] * norms[None, :]).clamp(min=torch.finfo(gramian.dtype).tiny)


class GradientWeighting(Weighting):
    """Base of gradient-space methods: subclasses define ``gramian_weights`` or ``combine``."""

    representation_mode = True  # False where gradients of different batches are mixed (state)

    def __init__(self, task_names: list[str], task_weights: list[float], mode: str = "parameters"):
        super().__init__(task_names, task_weights)
        name = getattr(self, "registry_name", type(self).__name__)
        self.mode = choose(mode, MODES, f"weighting.mode of '{name}'")
        if mode == "representation" and not self.representation_mode:
            raise ConfigError(
                f"weighting '{name}' keeps gradient statistics across steps, and representation "
                "gradients belong to one batch's samples: use weighting.mode=parameters"
            )
        self.current_representation: list[Tensor] = []
        self.active_tasks: list[int] = []
        self.grad_scale = 1.0  # trainer.precision=16-mixed: the loss scale in this step's grads

    def task_objectives(self, losses: Tensor) -> Tensor:
        """The per-task objectives whose gradients are combined (and that heads receive)."""
        return losses * self.user_weights

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        """Weights ``[T']`` of the objectives' gradients from their Gramian ``[T', T']``; the rows
        are the tasks ``self.active_tasks`` (those with a non-zero gradient)."""
        raise NotImplementedError

    def combine(self, grads: Tensor, losses: Tensor) -> tuple[Tensor, Tensor]:
        """``(direction [N], weights [T])`` from the objectives' gradients ``grads [T, N]``;
        the weights returned are those of the raw losses (``task.<name>.weight`` included)."""
        return self.combine_gramian(grads, grads @ grads.T, losses)

    def combine_gramian(
        self, grads: Tensor, gramian: Tensor, losses: Tensor
    ) -> tuple[Tensor, Tensor]:
        """:meth:`combine` given the Gramian (of the global batch, where ``grads`` are one rank's
        rows of it)."""
        active = gramian.diagonal() > 0
        self.active_tasks = active.nonzero().flatten().tolist()
        if len(self.active_tasks) == len(grads):
            weights = self.gramian_weights(gramian, losses).to(grads)
        else:
            weights = grads.new_zeros(len(grads))
            if self.active_tasks:
                sub = gramian[active][:, active]
                weights[active] = self.gramian_weights(sub, losses[active]).to(grads)
        return weights @ grads, weights * self.user_weights

    def backward(
        self,
        losses: Tensor,
        shared_params: Sequence[Tensor],
        representation: Tensor | Sequence[Tensor] | None = None,
    ) -> Tensor:
        objectives = self.task_objectives(losses)
        if self.mode == "representation":
            return self._through_representation(objectives, losses.detach(), representation)
        params = [p for p in shared_params if p.requires_grad]
        if not params:  # nothing shared: each task trains its own parameters
            objectives.sum().backward()
            return self.user_weights.clone()
        sizes, saved, sparse = [p.numel() for p in params], [p.grad for p in params], set()
        grads = objectives.new_zeros(len(objectives), sum(sizes), dtype=params[0].dtype)
        for p in params:
            p.grad = None
        for t, objective in enumerate(objectives):
            if objective.requires_grad:
                objective.backward(retain_graph=t < len(objectives) - 1)
            for p, piece in zip(params, grads[t].split(sizes), strict=True):
                if p.grad is not None:  # a sparse table's gradient (optim.sparse_embeddings)
                    sparse |= {id(p)} if p.grad.is_sparse else set()  # is read densely
                    piece.copy_((p.grad.to_dense() if id(p) in sparse else p.grad).reshape(-1))
                    p.grad = None
        distributed.all_reduce(grads, "mean")  # the global batch's per-task gradients
        direction, weights = unscaled(self.combine, grads, losses.detach(), self)
        for p, piece, old in zip(params, direction.split(sizes), saved, strict=True):
            grad = piece.view_as(p) if old is None else old + piece.view_as(p)
            p.grad = grad.to_sparse(1) if id(p) in sparse else grad  # the rows the batch moved
        self.global_parameters = [p for p, old in zip(params, saved, strict=True) if old is None]
        return weights.detach()

    def _through_representation(
        self, objectives: Tensor, losses: Tensor, representation: Tensor | Sequence[Tensor] | None
    ) -> Tensor:
        single = isinstance(representation, Tensor)
        reps = [representation] if single else list(representation or [])
        if not reps or not all(r.requires_grad for r in reps):
            raise ConfigError(
                "weighting.mode=representation needs the encoder's shared representation "
                "(shared_output), but this encoder sets none that requires a gradient (PLE, "
                "cross-stitch and single_task have no single shared tensor): use "
                "weighting.mode=parameters"
            )
        grads = task_gradients(objectives, reps)
        self.current_representation = [r.detach() for r in reps]
        try:
            across = partial(self._combine_across_ranks, reps=reps)
            combine = across if distributed.active() else self.combine
            direction, weights = unscaled(combine, grads, losses, self)
        finally:
            self.current_representation = []
        pieces = direction.split([r.numel() for r in reps])
        pairs = zip(reps, pieces, strict=True)
        hooks = [r.register_hook(replacement(d.view_as(r))) for r, d in pairs]
        try:
            objectives.sum().backward()
        finally:
            for hook in hooks:
                hook.remove()
        return weights.detach()

    def _combine_across_ranks(
        self, grads: Tensor, losses: Tensor, reps: list[Tensor]
    ) -> tuple[Tensor, Tensor]:
        """``combine`` on the global batch from this rank's rows ``grads`` ``[T, N_r]`` (of its
        local objectives, whose mean over ranks is the global one); returns this rank's rows of
        the direction, scaled so that averaging the backward passes gives the global gradient."""
        ranks, t = distributed.size(), len(grads)
        if type(self).combine is GradientWeighting.combine:  # the Gramian is all it reads
            gramian = distributed.all_reduce(grads @ grads.T) / ranks**2
            return self.combine_gramian(grads, gramian, losses)
        lengths = distributed.shares(len(reps[0]))  # every rank's rows (the same in each rep)
        start, n, mine = sum(lengths[: distributed.rank()]), sum(lengths), len(reps[0])
        units = [r.shape[1:].numel() for r in reps]  # per row (a share may have no rows)
        split = grads.split([mine * u for u in units], dim=1)
        pairs = zip(split, units, strict=True)
        rows = [g.view(t, mine, u).transpose(0, 1).contiguous() for g, u in pairs]  # [n_r, T, u]
        full = [distributed.gather_rows(g).transpose(0, 1).reshape(t, -1) / ranks for g in rows]
        self.current_representation = [distributed.gather_rows(r.detach()) for r in reps]
        direction, weights = self.combine(torch.cat(full, dim=1), losses)
        pieces = direction.split([n * u for u in units])
        local = [p.view(n, u)[start : start + mine].reshape(-1) * ranks
                 for p, u in zip(pieces, units, strict=True)]  # fmt: skip
        return torch.cat(local), weights
