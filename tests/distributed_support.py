"""Training the same steps in one process and in a gloo process group (test_distributed.py).

``train_cases`` runs ``STEPS`` steps of the real training loop (``train_epoch``) for each
weighting case on a tiny synthetic MMoE, from the same initial model; ``worker`` is one rank of a
spawned group doing the same, rank 0 saving what it ended with. The global batch (31 rows) does
not divide between 2 ranks (16 + 15), so every step also exercises the per-share loss weights.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest
import torch
from conftest import composed
from omegaconf import OmegaConf
from tqdm import tqdm

from mtfw import distributed, registry
from mtfw.experiment import Experiment, build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.trainer.loop import train_epoch
from mtfw.trainer.precision import Precision
from mtfw.trainer.sparse_embeddings import build_optimizer
from mtfw.trainer.step_checkpoint import RunSteps, StepCheckpoints

STEPS, BATCH = 4, 31
SETTINGS = {"dwa": {"period": 1}, "rlw": {}}  # DWA: new weights every step, not after 100
CONFIG = ("experiment=synthetic", "data.n_samples=400", "encoder.n_experts=2",
          "encoder.expert.hidden=[8]", "task.y1.tower=[4]", "task.y2.tower=[4]",
          f"trainer.batch_size={BATCH}", f"trainer.max_steps_per_epoch={STEPS}",
          "trainer.eval_batch_size=16")  # fmt: skip
# 320 train rows in batches of 319: the second step's batch has one row, rank 1's share none.
EMPTY_SHARE = (*[o for o in CONFIG if not o.startswith("trainer.")], "trainer.batch_size=319",
               "trainer.max_steps_per_epoch=2", "trainer.eval_batch_size=16")  # fmt: skip
# Conversion among visitors (~15% of rows): each share's labelled count differs from step to step.
MASKED = ("data=hillstrom", "task=[visit,conversion_visitors]",
          "task.conversion_visitors.train=true", "encoder.n_experts=2", "encoder.expert.hidden=[8]",
          f"trainer.batch_size={BATCH}", f"trainer.max_steps_per_epoch={STEPS}",
          "trainer.eval_batch_size=4096")  # fmt: skip


def experiment(overrides: tuple[str, ...]) -> Experiment:
    torch.manual_seed(0)
    return build_experiment(composed(*overrides))


def with_weighting(exp: Experiment, name: str, mode: str | None) -> Experiment:
    node = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "weighting" / f"{name}.yaml"))
    node.update({"mode": mode} if mode else {}, **SETTINGS.get(name, {}))
    torch.manual_seed(1)  # the weighting's own generator: the same seed in every process
    weighting = registry.build("weighting", node, task_names=list(exp.tasks),
                               task_weights=[t.weight for t in exp.tasks.values()])  # fmt: skip
    model = copy.deepcopy(exp.model)
    optimizer = build_optimizer(exp.cfg, model, weighting.parameters())  # sparse tables too
    return dataclasses.replace(exp, model=model, weighting=weighting, optimizer=optimizer)


def overflowing(step: int) -> Callable:
    """``average_gradients`` that first makes a gradient inf at the ``step``-th step (0-based)
    where this process holds rows the overflow is in: on the last rank only, or in one process
    (holding every row). A gradient no collective has made global yet: as an fp16 overflow in
    one rank's backward pass would be."""
    original, calls = distributed.average_gradients, [0]

    def average(params: Iterable[torch.Tensor], skip: Sequence[torch.Tensor] = ()) -> None:
        params, skipped = list(params), {id(p) for p in skip}
        if calls[0] == step and distributed.rank() == distributed.size() - 1:
            grad = next(p.grad for p in params if p.grad is not None and id(p) not in skipped)
            grad.view(-1)[0] = float("inf")
        calls[0] += 1
        original(params, skip)

    return average


def train_cases(
    cases: list[tuple[str, str | None]], overrides: tuple[str, ...] = CONFIG,
    overflow_step: int | None = None,
) -> dict[str, object]:  # fmt: skip
    """``{case: [parameters after STEPS steps]}``, ``val`` the first case's val metrics and
    ``val_initial`` those of the initial model; ``{case}/skipped`` and ``{case}/scale``: the
    loss scaler's skipped steps and scale (``16-mixed``). ``overflow_step``: that step's
    gradients hold an inf (:func:`overflowing`)."""
    torch.set_num_threads(1)
    exp = experiment(overrides)
    out: dict[str, object] = {"val_initial": exp.evaluate("val")}  # the same model everywhere
    for name, mode in cases:
        run = with_weighting(exp, name, mode)
        state = {"epoch": 0, "step": 0, "train_samples": 0}
        precision = Precision(run.trainer.precision, run.device)
        with tqdm(disable=True) as bar, pytest.MonkeyPatch.context() as patch:
            if overflow_step is not None:
                patch.setattr(distributed, "average_gradients", overflowing(overflow_step))
            train_epoch(run, 0, state, bar, RunSteps(precision, StepCheckpoints(None)))
        assert state["step"] == run.trainer.max_steps_per_epoch
        params = [*run.model.parameters(), *run.weighting.parameters()]
        out[f"{name}-{mode}"] = [p.detach().clone() for p in params]
        out[f"{name}-{mode}/skipped"] = precision.skipped_steps
        out[f"{name}-{mode}/scale"] = precision.scaler.get_scale() if precision.scaler else None
        if "val" not in out:
            out["val"] = run.evaluate("val")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(
    rank: int, world: int, port: int, cases: list, out: Path, overrides: tuple[str, ...] = CONFIG,
    overflow_step: int | None = None, every_rank: bool = False,
) -> None:  # fmt: skip
    """One rank of a gloo group of ``world`` processes on this machine; rank 0 saves its
    results to ``out``, or with ``every_rank`` each rank to ``rank<r>.pt`` beside it."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world))  # fmt: skip
    distributed.start("gloo", timeout_s=60)
    try:
        results = train_cases(cases, overrides, overflow_step)
        results["traffic"] = distributed.traffic.bytes
        if every_rank:
            torch.save(results, out.with_name(f"rank{rank}.pt"))
        elif rank == 0:
            torch.save(results, out)
    finally:
        distributed.stop()
