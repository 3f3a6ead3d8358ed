"""Distributed training on one machine: samples/s of 1 vs 2 gloo processes, bytes all-reduced.

    nice .venv/bin/python benchmarks/ddp.py [--steps 30] [--batch-size 1024] [--json out.json]

Census MMoE (income, marital), the training loop's own epoch (``train_epoch``) capped at
``--steps`` steps after ``--warmup`` steps, for ``static`` and ``mgda`` in each mode, and for the
communication volume also ``uncertainty`` (loss-space), ``pcgrad`` (a Gramian method) and
``gradnorm``/``graddrop`` in representation mode (their representation gradients are gathered).
Layouts: 1 process x 1 thread, 1 process x 2 threads, 2 processes x 1 thread (gloo). samples/s
counts the global batch; bytes/step are what one rank puts into collectives per training step.
On a 2-core machine 2 processes cannot beat 1 process with 2 threads: this measures the overhead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import sys
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from tqdm import tqdm

from mtfw import distributed, registry
from mtfw.experiment import build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.trainer.loop import train_epoch

SPEED = [("static", None), ("mgda", "parameters"), ("mgda", "representation")]
VOLUME = [("uncertainty", None), ("pcgrad", "parameters"), ("pcgrad", "representation"),
          ("gradnorm", "representation"), ("graddrop", "representation")]  # fmt: skip
FAMILY = {"static": "loss-space", "uncertainty": "loss-space"}


def family(name: str, mode: str | None) -> str:
    if mode is None:
        return FAMILY.get(name, "loss-space")
    if mode == "parameters":
        return "gradient, parameters ([T, P] all-reduce)"
    gathered = name in ("gradnorm", "graddrop")
    return "gradient, representation (" + ("rows gathered)" if gathered else "T x T Gramian)")


def measure(cases: list, steps: int, warmup: int, batch: int, threads: int) -> list[dict]:
    torch.set_num_threads(threads)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"trainer.batch_size={batch}"])
    torch.manual_seed(0)
    exp = build_experiment(cfg)
    rows = []
    for name, mode in cases:
        node = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "weighting" / f"{name}.yaml"))
        node.update({"mode": mode} if mode else {})
        weighting = registry.build("weighting", node, task_names=list(exp.tasks),
                                   task_weights=[t.weight for t in exp.tasks.values()])  # fmt: skip
        params = [*exp.model.parameters(), *weighting.parameters()]
        optimizer = registry.build("optim", cfg.optim, params=params)
        run = dataclasses.replace(exp, weighting=weighting, optimizer=optimizer)
        timed = {}
        for label, count in (("warmup", warmup), ("timed", steps)):
            run = dataclasses.replace(
                run, trainer=dataclasses.replace(exp.trainer, max_steps_per_epoch=count)
            )
            distributed.traffic.reset()
            distributed.all_reduce(torch.zeros(1))  # a barrier before the clock starts
            start, state = time.perf_counter(), {"epoch": 0, "step": 0, "train_samples": 0}
            with tqdm(disable=True) as bar:
                train_epoch(run, 1, state, bar)
            distributed.all_reduce(torch.zeros(1))  # the slowest rank's end
            timed[label] = (time.perf_counter() - start, state, distributed.traffic.bytes - 8)
        seconds, state, sent = timed["timed"]
        rows.append({"weighting": name, "mode": mode, "family": family(name, mode),
                     "samples_per_s": state["train_samples"] / seconds,
                     "bytes_per_step": sent / max(state["step"], 1)})  # fmt: skip
    return rows


def rank_main(rank: int, world: int, port: int, args: argparse.Namespace, out: str) -> None:
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                          WORLD_SIZE=str(world))  # fmt: skip
        distributed.start("gloo", 600)
    cases = SPEED + VOLUME if world > 1 else SPEED
    rows = measure(cases, args.steps, args.warmup, args.batch_size, args.threads_per_rank)
    if rank == 0:
        Path(out).write_text(json.dumps(rows))
    distributed.stop()


def layout(world: int, threads: int, args: argparse.Namespace, out: Path) -> list[dict]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = argparse.Namespace(**{**vars(args), "threads_per_rank": threads})
    mp.spawn(rank_main, args=(world, port, args, str(out)), nprocs=world, join=True)
    rows = json.loads(out.read_text())
    return [{**r, "processes": world, "threads": threads} for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"mtfw-ddp-bench-{os.getpid()}.json"
    rows = [*layout(1, 1, args, tmp), *layout(1, 2, args, tmp), *layout(2, 1, args, tmp)]
    print(f"census MMoE, batch {args.batch_size}, {args.steps} steps; samples/s (global batch)")
    print(f"{'weighting':<26}{'1 proc x 1 thr':>16}{'1 proc x 2 thr':>16}{'2 procs (gloo)':>16}")
    for name, mode in SPEED:
        speed = [r["samples_per_s"] for r in rows if (r["weighting"], r["mode"]) == (name, mode)]
        label = f"{name} {mode or ''}".strip()
        print(f"{label:<26}" + "".join(f"{v:>16,.0f}" for v in speed))
    print("\nbytes each rank puts into collectives per step (2 processes)")
    for r in rows:
        if r["processes"] == 2:
            label = f"{r['weighting']} {r['mode'] or ''}".strip()
            print(f"{label:<26}{r['bytes_per_step']:>14,.0f}  {r['family']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
