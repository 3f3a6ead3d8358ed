"""``trainer.compile``: training samples/s with and without ``torch.compile``, in one process.

    .venv/bin/python benchmarks/compile.py [--repeats 2] [--epochs 2] [--threads 2]
        [--setups census ml100k] [--json results.json]

For each setup (census MMoE, the default ``mtfw train``; MovieLens-100K ``experiment=ml100k_mtl``)
the experiment is built once, then eager and compiled contestants alternate, each ``--epochs``
epochs of ``mtfw.trainer.loop.fit`` on fresh copies of the initial model, weighting and optimizer.
A compiled contestant starts from ``torch._dynamo.reset()``, so its first epoch pays the
compilation (inductor's on-disk cache of a previous process may shorten it); later epochs show the
steady state. Reported: training samples/s per epoch (validation excluded) and the whole wall time.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

from mtfw import registry
from mtfw.experiment import Experiment, build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.record import RunRecord
from mtfw.trainer.compilation import compile_model
from mtfw.trainer.loop import fit

SETUPS = {"census": [], "ml100k": ["experiment=ml100k_mtl"]}


def run_epochs(exp: Experiment, compiled: bool) -> dict:
    """``--epochs`` epochs on fresh copies of the initial model; samples/s of each epoch."""
    model, weighting = copy.deepcopy(exp.model), copy.deepcopy(exp.weighting)
    if compiled:
        torch._dynamo.reset()  # this contestant compiles from scratch
        compile_model(model)
    params = [*model.parameters(), *weighting.parameters()]
    opt = registry.build("optim", exp.cfg.optim, where="optim", params=params)
    run = dataclasses.replace(exp, model=model, weighting=weighting, optimizer=opt)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        state = fit(run, RunRecord(Path(tmp)))
        wall = time.perf_counter() - start
        rows = RunRecord(Path(tmp)).history()
    per_epoch = state["train_samples"] / len(rows)
    return {"samples_per_s": [per_epoch / r["epoch_seconds"] for r in rows], "wall_s": wall,
            "val": rows[-1][exp.trainer.monitor]}  # fmt: skip


def bench_setup(name: str, args: argparse.Namespace) -> dict:
    fixed = [f"trainer.max_epochs={args.epochs}", "trainer.patience=null",
             f"trainer.num_threads={args.threads}", "trainer.progress=never",
             "trainer.device=cpu"]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*SETUPS[name], *fixed])
    exp = build_experiment(cfg)
    runs: dict[str, list[dict]] = {"eager": [], "compiled": []}
    for _ in range(args.repeats):
        for contestant in runs:
            runs[contestant].append(run_epochs(exp, contestant == "compiled"))
    return {"setup": name, "train_rows": len(exp.data.splits["train"]), "runs": runs}


def summarise(result: dict) -> str:
    lines = []
    for contestant, runs in result["runs"].items():
        first = statistics.median(r["samples_per_s"][0] for r in runs)
        later = [s for r in runs for s in r["samples_per_s"][1:]]
        wall = statistics.median(r["wall_s"] for r in runs)
        steady = f"{statistics.median(later):>12,.0f}" if later else f"{'-':>12}"
        lines.append(f"{result['setup']:<8}{contestant:<10}{first:>12,.0f}{steady}{wall:>10.1f}"
                     f"{runs[-1]['val']:>12.5f}")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setups", nargs="*", default=list(SETUPS), choices=list(SETUPS))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.use_deterministic_algorithms(True, warn_only=True)  # as mtfw train does by default
    print(f"torch {torch.__version__}, {args.threads} threads, {args.repeats} alternating repeats "
          f"of {args.epochs} epochs, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} "
          "CPUs")  # fmt: skip
    print(f"\n{'setup':<8}{'model':<10}{'epoch 1/s':>12}{'later/s':>12}{'wall s':>10}"
          f"{'last val':>12}")  # fmt: skip
    results = []
    for name in args.setups:
        results.append(bench_setup(name, args))
        print(summarise(results[-1]), flush=True)
    print(f"(medians; samples/s of training only, epoch 1 includes compilation; load average now "
          f"{os.getloadavg()[0]:.2f})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"config": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
