"""Seconds per method of ``mtfw explain`` on census MMoE (val split) and MovieLens-100K.

    .venv/bin/python benchmarks/explain_speed.py [--census RUN_DIR] [--ml100k RUN_DIR]
        [--ml100k-root DIR] [--repeats 5] [--threads 2]

Trains the two runs first when they are not given (``mtfw train`` with the defaults: census
income + marital with MMoE; ``experiment=ml100k_mtl`` for MovieLens-100K, which needs the data in
``--ml100k-root``, ``$MTFW_DATA`` or a download), then explains each on its val split as ``mtfw
explain RUN_DIR repeats=N`` does and prints the seconds of each step: rebuilding the run (data,
model, selected weights), permutation importance (one evaluation pass per field and repeat),
integrated gradients (32 path points per row, every task) and the expert x field table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from mtfw.cli import main as mtfw
from mtfw.experiment import build_experiment
from mtfw.explain.experts import expert_table
from mtfw.explain.fields import input_fields
from mtfw.explain.gradients import integrated_gradients
from mtfw.explain.permutation import permutation_importance
from mtfw.recommend_users import restore_selected
from mtfw.run_files import read_config


def trained(where: Path, name: str, overrides: list[str]) -> Path:
    run_dir = where / name
    mtfw(["train", *overrides, f"hydra.run.dir={run_dir}"])
    return run_dir


def timed(run_dir: Path, repeats: int) -> dict[str, float]:
    seconds = {}
    started = time.perf_counter()
    exp = build_experiment(read_config(run_dir))
    restore_selected(exp, run_dir)
    seconds["rebuild"] = time.perf_counter() - started
    model, split, context = exp.model, exp.data.splits["val"], exp.data.context
    fields, batch = input_fields(model), exp.trainer.eval_batch_size
    steps = {
        "permutation": lambda: permutation_importance(
            model, exp.tasks, split, context, fields, repeats, 0, batch
        ),
        "integrated_gradients": lambda: integrated_gradients(
            model, list(exp.tasks), split, fields, batch
        ),
        "experts": lambda: expert_table(model, split, fields, fields, batch),
    }
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - started
    seconds["rows"], seconds["fields"] = len(split), len(fields)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--census", type=Path, help="a finished census MMoE run (else trained)")
    parser.add_argument("--ml100k", type=Path, help="a finished ml100k_mtl run (else trained)")
    parser.add_argument("--ml100k-root", help="data.root holding MovieLens-100K")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        runs = {"census MMoE": args.census or trained(where, "census", [])}
        root = [f"data.root={args.ml100k_root}", "data.download=false"]
        ml = ["experiment=ml100k_mtl", *(root if args.ml100k_root else [])]
        runs["MovieLens-100K"] = args.ml100k or trained(where, "ml100k", ml)
        print(f"seconds per step, val split, repeats={args.repeats}, {args.threads} threads")
        print(f"{'run':<16}{'rows':>7}{'fields':>7}{'rebuild':>9}{'permutation':>13}"
              f"{'integr. grad.':>15}{'experts':>9}")  # fmt: skip
        for name, run_dir in runs.items():
            s = timed(run_dir, args.repeats)
            print(f"{name:<16}{s['rows']:>7}{s['fields']:>7}{s['rebuild']:>9.1f}"
                  f"{s['permutation']:>13.1f}{s['integrated_gradients']:>15.1f}"
                  f"{s['experts']:>9.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
