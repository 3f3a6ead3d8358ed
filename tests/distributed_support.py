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
from pathlib import Path

import torch
from conftest import composed
from omegaconf import OmegaConf
from tqdm import tqdm

from mtfw import distributed, registry
from mtfw.experiment import Experiment, build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.trainer.loop import train_epoch

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
    params = [*model.parameters(), *weighting.parameters()]
    optimizer = registry.build("optim", exp.cfg.optim, params=params)
    return dataclasses.replace(exp, model=model, weighting=weighting, optimizer=optimizer)


def train_cases(
    cases: list[tuple[str, str | None]], overrides: tuple[str, ...] = CONFIG
) -> dict[str, object]:
    """``{case: [parameters after STEPS steps]}``, ``val`` the first case's val metrics and
    ``val_initial`` those of the initial model."""
    torch.set_num_threads(1)
    exp = experiment(overrides)
    out: dict[str, object] = {"val_initial": exp.evaluate("val")}  # the same model everywhere
    for name, mode in cases:
        run = with_weighting(exp, name, mode)
        state = {"epoch": 0, "step": 0, "train_samples": 0}
        with tqdm(disable=True) as bar:
            train_epoch(run, 0, state, bar)
        assert state["step"] == run.trainer.max_steps_per_epoch
        params = [*run.model.parameters(), *run.weighting.parameters()]
        out[f"{name}-{mode}"] = [p.detach().clone() for p in params]
        if "val" not in out:
            out["val"] = run.evaluate("val")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(
    rank: int, world: int, port: int, cases: list, out: Path, overrides: tuple[str, ...] = CONFIG
) -> None:
    """One rank of a gloo group of ``world`` processes on this machine."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world))  # fmt: skip
    distributed.start("gloo", timeout_s=60)
    try:
        results = train_cases(cases, overrides)
        results["traffic"] = distributed.traffic.bytes
        if rank == 0:
            torch.save(results, out)
    finally:
        distributed.stop()
