"""Training step time of every weighting method relative to ``static``, same model and batch.

    .venv/bin/python benchmarks/weighting.py [--methods static mgda pcgrad] [--steps 20]
        [--repeats 5] [--threads 2] [--batch-size 1024] [--overrides 'task=[a,b,c]' ...]
        [--json results.json]

One process, one data load, one batch of the train split. Every method runs in each mode it
offers (``parameters``, and ``representation`` where sound) on its own copy of the initial model,
built from its ``conf/weighting/<name>.yaml``. A step is the training loop's own step: forward,
task losses, ``weighting.backward(losses, shared, representation=...)``, optimizer step. The
contestants take turns, ``--steps`` steps each per round, for ``--repeats`` rounds, so load on the
machine hits them alike; the table gives each one's median step time and its ratio to static's.
Target (issue 4): gradient-space methods in representation mode at most ~1.5x static for two
tasks on census MMoE.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from mtfw import registry
from mtfw.experiment import build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.trainer.evaluate import batch_losses
from mtfw.weighting import GradientWeighting

TARGET = 1.5


def contestants(methods: list[str]) -> list[tuple[str, str | None, dict]]:
    """(method, mode, config node) for every method and mode it offers."""
    out = []
    for name in methods:
        node = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "weighting" / f"{name}.yaml"))
        cls = registry.get("weighting", name)
        if not issubclass(cls, GradientWeighting):
            out.append((name, None, node))
            continue
        for mode in ("parameters", "representation")[: 2 if cls.representation_mode else 1]:
            out.append((name, mode, {**node, "mode": mode}))
    return out


class Runner:
    """One contestant: its own model copy, weighting and optimizer, stepping on a fixed batch."""

    def __init__(self, exp, node: dict, batch) -> None:
        self.model = copy.deepcopy(exp.model)
        self.tasks = {n: t for n, t in exp.tasks.items() if t.train}
        names = list(self.tasks)
        weights = [t.weight for t in self.tasks.values()]
        self.weighting = registry.build("weighting", node, task_names=names, task_weights=weights)
        params = [*self.model.parameters(), *self.weighting.parameters()]
        self.opt = registry.build("optim", exp.cfg.optim, where="optim", params=params)
        self.shared = list(self.model.shared_parameters())
        self.batch = batch

    def step(self) -> None:
        losses = batch_losses(self.model, self.tasks, self.batch)
        self.opt.zero_grad(set_to_none=True)
        self.weighting.backward(
            losses, self.shared, representation=self.model.shared_representation()
        )
        self.opt.step()

    def time(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        return (time.perf_counter() - start) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", nargs="*", help="default: every registered weighting")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per contestant and round")
    ap.add_argument("--repeats", type=int, default=5, help="rounds")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--overrides", nargs="*", default=[], help="Hydra overrides")
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["trainer.device=cpu", *args.overrides])
    exp = build_experiment(cfg)
    exp.model.train()
    batch = exp.data.splits["train"].take(slice(0, args.batch_size))
    methods = args.methods or registry.names("weighting")
    if "static" not in methods:
        methods = ["static", *methods]
    runners = {}
    for name, mode, node in contestants(methods):
        torch.manual_seed(0)
        runners[(name, mode)] = runner = Runner(exp, node, batch)
        runner.time(3)  # warm-up: allocator, lazily sized state
    print(f"data={cfg.data.name} encoder={cfg.encoder.name} tasks={','.join(runner.tasks)} "
          f"batch={args.batch_size} threads={args.threads} steps={args.steps}x{args.repeats} "
          f"torch={torch.__version__} load average={os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    times: dict[tuple, list[float]] = {key: [] for key in runners}
    for _ in range(args.repeats):
        for key, runner in runners.items():
            times[key].append(runner.time(args.steps))
    median = {key: statistics.median(values) for key, values in times.items()}
    base = median[("static", None)]
    print(f"\n{'method':<13}{'mode':<16}{'ms/step':>9}{'x static':>10}")
    for (name, mode), value in median.items():
        print(f"{name:<13}{mode or '-':<16}{value * 1e3:>9.2f}{value / base:>10.2f}")
    slow = [f"{n}" for (n, m), v in median.items() if m == "representation" and v / base > TARGET]
    print(f"\nrepresentation mode within {TARGET}x static: "
          f"{'all' if not slow else 'not ' + ', '.join(slow)}; "
          f"load average now {os.getloadavg()[0]:.2f}")  # fmt: skip
    if args.json:
        rows = [{"method": n, "mode": m, "seconds_per_step": v, "ratio_to_static": v / base,
                 "runs": times[(n, m)]} for (n, m), v in median.items()]  # fmt: skip
        args.json.write_text(json.dumps({"config": vars(args) | {"json": str(args.json)},
                                         "results": rows}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
