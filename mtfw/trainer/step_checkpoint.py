"""What a checkpoint holds, and checkpoints inside an epoch (``trainer.checkpoint_every_steps``).

A checkpoint is the whole training state: model, optimizer, weighting (its buffers and its own
generator), torch's RNG (and CUDA's), the loss scaler of ``precision=16-mixed`` and the loop's
counters. An epoch's end writes one without a ``position``; every ``checkpoint_every_steps``
global steps inside an epoch, rank 0 writes one with the data position: the epoch, how many of its
batches were trained, and the per-step losses, weights and gradient cosines so far (the epoch's
rows of ``metrics.jsonl`` are written at its end, from these). A resumed run walks the same seeded
batches of that epoch (the order and negatives depend on the seed and the epoch only) and trains
from the first batch not yet trained, so it ends bit-identical to the uninterrupted run. Each
checkpoint replaces ``checkpoint.pt`` by a rename of a complete temporary file: a kill during a
write keeps the last complete one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from mtfw import distributed
from mtfw.trainer import checkpoint

if TYPE_CHECKING:
    from mtfw.record import RunRecord
    from mtfw.trainer.experiment import Experiment
    from mtfw.trainer.precision import Precision

log = logging.getLogger("mtfw")


def after_save(path: Path, state: dict) -> None:
    """Called after every in-epoch checkpoint is complete (a hook for tests: a run stopped here
    is one killed right after that checkpoint)."""


def capture(exp: Experiment, state: dict, scaler_state: dict | None) -> dict[str, Any]:
    """The training state to save (everything ``restore`` needs)."""
    saved: dict[str, Any] = {
        "model": exp.model.state_dict(), "weighting": exp.weighting.state_dict(),
        "optimizer": exp.optimizer.state_dict(), "rng": torch.get_rng_state(), "state": state,
        "scaler": scaler_state,
    }  # fmt: skip
    if exp.device.type == "cuda":  # dropout on the GPU draws from the device's generator
        saved["cuda_rng"] = torch.cuda.get_rng_state(exp.device)
    if distributed.active():  # each rank's dropout drew for its own share: every rank's RNG
        saved["rank_rng"] = distributed.gather_objects((saved["rng"], saved.get("cuda_rng")))
    return saved


def resumed(exp: Experiment, record: RunRecord, fingerprint: str, precision: Precision,
            fresh: dict) -> tuple[dict, dict | None]:  # fmt: skip
    """``(state, position)`` of the run's ``checkpoint.pt``, its weights, optimizer, RNGs and
    loss scaler loaded; ``(fresh, None)`` for a run stopped before its first checkpoint."""
    path = record.dir / "checkpoint.pt"
    if not distributed.broadcast_object(path.exists()):  # stopped in epoch 1
        log.info("no checkpoint yet in %s (the run stopped before its first one): training from "
                 "scratch in the same directory", record.dir)  # fmt: skip
        record.truncate_after(0)
        return fresh, None
    saved = checkpoint.load_on_every_rank(path, fingerprint)
    restore(exp, saved)
    precision.load_state_dict(saved.get("scaler"))
    state, position = saved["state"], saved.get("position")
    if exp.trainer.num_threads is None and state.get("num_threads"):  # float sums depend on it
        torch.set_num_threads(state["num_threads"])  # the count the run began with
    record.truncate_after(state["epoch"])
    at = f", step {state['step']} (inside the epoch)" if position else ""
    log.info("resumed from %s at epoch %d%s", path, state["epoch"], at)
    return state, position


def restore(exp: Experiment, saved: dict[str, Any]) -> None:
    """Load what :func:`capture` saved into the run's model, weighting, optimizer and RNGs."""
    exp.model.load_state_dict(saved["model"])
    exp.weighting.load_state_dict(saved["weighting"])
    exp.optimizer.load_state_dict(saved["optimizer"])
    rng, cuda_rng = saved["rng"], saved.get("cuda_rng")
    ranks = saved.get("rank_rng")
    if distributed.active() and ranks is not None and len(ranks) == distributed.size():
        rng, cuda_rng = ranks[distributed.rank()]  # this rank's own, not rank 0's
    torch.set_rng_state(rng)  # dropout continues as if never interrupted
    if cuda_rng is not None and exp.device.type == "cuda":
        torch.cuda.set_rng_state(cuda_rng, exp.device)


@dataclass
class EpochProgress:
    """An epoch's steps so far: what its rows in ``metrics.jsonl`` are made of at its end."""

    epoch: int
    losses: list[Tensor] = field(default_factory=list)
    weights: list[Tensor] = field(default_factory=list)
    cosines: dict[int, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0  # training time of the steps before a resume

    @property
    def steps(self) -> int:
        return len(self.losses)

    def rows(self) -> dict[str, Any]:
        """The epoch's ``loss`` and ``weight`` ``[steps, T]``, ``grad_cos`` and ``seconds``."""
        empty = torch.zeros(0, len(self.losses[0]) if self.losses else 0)
        return {"loss": torch.stack(self.losses).cpu() if self.losses else empty,
                "weight": torch.stack(self.weights).cpu() if self.weights else empty,
                "grad_cos": self.cosines, "seconds": self.seconds}  # fmt: skip

    def position(self, seconds: float) -> dict[str, Any]:
        return {"epoch": self.epoch, "batches": self.steps, "seconds": self.seconds + seconds,
                "loss": torch.stack(self.losses).cpu(), "weight": torch.stack(self.weights).cpu(),
                "grad_cos": self.cosines}  # fmt: skip

    @classmethod
    def at(cls, position: dict[str, Any] | None, epoch: int, device: torch.device) -> Any:
        """The progress a checkpoint's position holds for ``epoch`` (a fresh one otherwise)."""
        if position is None or position["epoch"] != epoch:
            return cls(epoch)
        return cls(epoch, [r.to(device) for r in position["loss"]],
                   [r.to(device) for r in position["weight"]], dict(position["grad_cos"]),
                   position["seconds"])  # fmt: skip


def remaining(batches: Iterator, done: int) -> Iterator:
    """``batches`` after the first ``done``, which are drawn (the seeded order and negatives
    advance exactly as when they were trained) but not trained again."""
    for _ in range(done):
        next(batches, None)
    return batches


@dataclass
class RunSteps:
    """What every step of a run goes through besides the model: its precision (autocast, the
    loss scaler) and its in-epoch checkpoints."""

    precision: Precision
    checkpoints: StepCheckpoints


class StepCheckpoints:
    """Writes a checkpoint every ``every`` global steps inside an epoch (rank 0 only)."""

    def __init__(self, every: int | None, path: Path | None = None, fingerprint: str = "",
                 scaler_state: Callable[[], dict | None] = lambda: None) -> None:  # fmt: skip
        self.every, self.path, self.fingerprint = every, path, fingerprint
        self.scaler_state = scaler_state

    def after_step(self, exp: Experiment, state: dict, progress: EpochProgress, seconds: float,
                   last: bool) -> None:  # fmt: skip
        """After a step: a checkpoint when the step count is due (not after an epoch's last
        step: the epoch's end writes its own); every rank takes part (their RNG states are
        gathered), rank 0 alone writes it."""
        if not self.every or last or state["step"] % self.every:
            return
        saved = capture(exp, state, self.scaler_state())
        if not distributed.is_main():
            return
        checkpoint.save(self.path, **saved, position=progress.position(seconds),
                        fingerprint=self.fingerprint)  # fmt: skip
        after_save(self.path, state)
