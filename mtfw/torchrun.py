"""One run under ``torchrun --nproc-per-node=N -m mtfw.train ...``: what differs between ranks.

Rank 0 is the run: its Hydra output directory is the run directory, and it alone writes the run
record, checkpoints, ``best.pt`` and ``summary.json`` (and mirrors to wandb). Every other rank
trains and evaluates alongside it, writing only into a scratch directory of its own that is
removed when it exits (Hydra's ``.hydra/`` and log of that rank go there too), and logs warnings
only to the console. The process group (gloo on the CPU, NCCL on CUDA) starts after the config
checks, so bad input is refused by every rank alike before anything is built.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch
from omegaconf import DictConfig

from mtfw import distributed
from mtfw.errors import ConfigError
from mtfw.record import RunRecord
from mtfw.tracking import tracked_record
from mtfw.trainer.config import TrainerConfig
from mtfw.trainer.experiment import Experiment

log = logging.getLogger("mtfw")
_scratch: list[Path] = []


def launched_rank() -> int:
    """This process's rank as the launcher set it (0 without torchrun)."""
    return int(os.environ.get("RANK", "0")) if distributed.launched() else 0


def scratch_dir() -> Path:
    """This non-zero rank's own directory (one per process, removed at exit)."""
    if not _scratch:
        _scratch.append(Path(tempfile.mkdtemp(prefix=f"mtfw-rank{launched_rank()}-")))
        atexit.register(shutil.rmtree, _scratch[0], ignore_errors=True)
    return _scratch[0]


def rank_argv(argv: list[str]) -> list[str]:
    """The overrides this rank composes: the user's, with ``hydra.run.dir`` moved to the scratch
    directory on ranks other than 0. A multirun (``-m``, ``cv=``) is refused under torchrun."""
    if not distributed.launched():
        return argv
    if any(a in ("-m", "--multirun") or a.startswith(("cv=", "hydra.mode=")) for a in argv):
        raise ConfigError(
            "torchrun runs one run over all its processes; a multirun (-m, cv=K) would start "
            "every job on every rank: launch one torchrun per run (for a sweep: one per trial, "
            "see README 'Scaling up')"
        )
    if launched_rank() == 0:
        return argv
    return [*[a for a in argv if not a.startswith("hydra.run.dir=")],
            f"hydra.run.dir={scratch_dir()}"]  # fmt: skip


def own_dir(run_dir: Path) -> Path:
    """Where this rank writes: the run directory on rank 0, its scratch directory elsewhere."""
    return run_dir if launched_rank() == 0 else scratch_dir()


def record(cfg: DictConfig, run_dir: Path) -> RunRecord:
    """The run's record (mirrored to wandb with ``logger=wandb``) on rank 0; a plain one in the
    scratch directory on the others."""
    return tracked_record(cfg, run_dir) if launched_rank() == 0 else RunRecord(run_dir)


def backend(trainer: TrainerConfig) -> str:
    """The process group's backend: ``trainer.distributed_backend``, or for ``auto`` NCCL when
    the run trains on CUDA and gloo otherwise; NCCL on the CPU and gloo on CUDA are refused."""
    on_cuda = trainer.device.startswith("cuda") or (
        trainer.device == "auto" and torch.cuda.is_available()
    )
    chosen = trainer.distributed_backend
    if chosen == "auto":
        return "nccl" if on_cuda else "gloo"
    if chosen == "nccl" and not on_cuda:
        raise ConfigError(
            f"trainer.distributed_backend=nccl needs CUDA, but this run trains on the CPU "
            f"(trainer.device={trainer.device}): use gloo (or auto) for CPU training"
        )
    if chosen == "gloo" and on_cuda:
        raise ConfigError(
            f"trainer.distributed_backend=gloo with trainer.device={trainer.device}: gloo would "
            "route every collective of GPU tensors through the CPU; use nccl (or auto) on CUDA, "
            "gloo with trainer.device=cpu"
        )
    return chosen


def start(cfg: DictConfig, trainer: TrainerConfig) -> None:
    """Join the process group of a torchrun launch (nothing without one), after checking that the
    run can be distributed: a network (not a fitted baseline), a batch of at least one row per
    rank, ``trainer.device`` cuda (each rank takes ``cuda:LOCAL_RANK``) rather than cuda:N."""
    if not distributed.launched():
        return
    world = int(os.environ["WORLD_SIZE"])
    if cfg.get("baseline") is not None:
        raise ConfigError(
            f"baseline={cfg.baseline.name} is fitted in one process; run it without torchrun"
        )
    if trainer.batch_size < world:
        raise ConfigError(
            f"trainer.batch_size={trainer.batch_size} is smaller than the {world} processes of "
            "this torchrun: every rank needs rows of each batch; use a batch of at least "
            f"{world} (it is the global batch, split between the ranks)"
        )
    if trainer.device.startswith("cuda:"):
        raise ConfigError(
            f"trainer.device={trainer.device} under torchrun: each rank takes the GPU of its "
            "local rank (cuda:LOCAL_RANK); use trainer.device=cuda (or auto), and "
            "CUDA_VISIBLE_DEVICES to choose the GPUs"
        )
    if trainer.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.device={trainer.device} but CUDA is not available here; use auto or cpu"
        )
    chosen = backend(trainer)
    if trainer.device != "cpu" and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    distributed.start(chosen, trainer.distributed_timeout)
    if not distributed.is_main():  # one console: rank 0's (the others: warnings and errors)
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:
                handler.setLevel(logging.WARNING)
    low, high = trainer.batch_size // world, -(-trainer.batch_size // world)
    if low != high and distributed.is_main():
        log.warning(
            "trainer.batch_size=%d over %d ranks: each global batch is split into shares of "
            "%d or %d rows; every task's loss is weighted by the samples of each share, so a "
            "step is still the one-process step on the whole batch", trainer.batch_size, world,
            low, high,
        )  # fmt: skip
    log.info("torchrun: %d ranks (%s), global batch %d", world, chosen, trainer.batch_size)


def restore(exp: Experiment, run_dir: Path) -> None:
    """The model selected on validation, read by rank 0 and sent to every rank (the others may
    have trained only the epochs after a resume)."""
    if distributed.is_main():
        exp.fitter.restore(exp, run_dir)
    distributed.broadcast_module(exp.model)
