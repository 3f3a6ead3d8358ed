"""The CUDA path in one command (``benchmarks/gpu_check.sh`` runs this): short real runs on the
GPU, each next to the same run on the CPU, with samples/s and validation metrics side by side.

    benchmarks/gpu_check.sh [--cpu] [--steps 100] [--threads N] [--root DIR] [--out DIR]

Runs (``mtfw train``, one epoch of ``--steps`` batches each, a fresh process per run):

- census MMoE (static weighting) in fp32, bf16 and 16-mixed (the loss scaler);
- census MMoE with MGDA in ``weighting.mode=parameters`` and ``representation``, bf16;
- MovieLens-100K ``experiment=ml100k_mtl`` with packed SASRec history, bf16;
- 200k rows of ``experiment=synthetic_ctr`` on ``data.storage=disk`` with sparse embeddings, bf16
  (batches read from the disk cache, copied to the GPU from pinned memory, non-blocking).

Without CUDA it stops at once with exit code 2, unless ``--cpu`` runs the CPU column alone (the
reference to compare a GPU machine's table with). A run that fails is shown as FAILED with its
last output line, and the script exits 1. On CUDA, expect the GPU metrics close to the CPU's
(not equal: other kernels, other rounding) and ``skipped`` 0 or a few (16-mixed's first steps
may overflow while the scale settles).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CENSUS = ["data=census", "encoder=mmoe", "trainer.batch_size=1024"]
ML100K = ["experiment=ml100k_mtl", "history=sasrec"]
CHECKS = {
    "census mmoe fp32": [*CENSUS, "trainer.precision=32"],
    "census mmoe bf16": [*CENSUS, "trainer.precision=bf16"],
    "census mmoe 16-mixed": [*CENSUS, "trainer.precision=16-mixed"],
    "census mgda parameters bf16": [*CENSUS, "weighting=mgda", "weighting.mode=parameters",
                                    "trainer.precision=bf16"],
    "census mgda representation bf16": [*CENSUS, "weighting=mgda",
                                        "weighting.mode=representation", "trainer.precision=bf16"],
    "ml100k sasrec bf16": [*ML100K, "trainer.precision=bf16"],
    # batches read from the disk cache, pinned and copied non-blocking to the GPU
    "synthetic_ctr disk sparse bf16": ["experiment=synthetic_ctr", "data.rows=200000",
                                       "data.storage=disk", "optim.sparse_embeddings=true",
                                       "trainer.precision=bf16"],
}  # fmt: skip
METRICS = ("val/income/auc", "val/marital/auc", "val/ranking/ndcg@10", "val/interest/auc",
           "val/click/auc")  # fmt: skip


def train(name: str, overrides: list[str], device: str, args: argparse.Namespace) -> dict:
    """One run's summary (or ``{"error": last output line}``)."""
    run_dir = Path(args.out) / device / name.replace(" ", "_")
    data = [f"data.root={args.root}", "data.download=false"] if "ml100k" in name else []
    if "disk" in name:  # the generated rows and the cache beside the runs
        data = [f"data.cache={args.out}/synthetic_ctr", f"data.disk.cache_dir={args.out}/columns"]
    command = [sys.executable, "-m", "mtfw", "train", *overrides, *data, f"trainer.device={device}",
               "trainer.max_epochs=1", f"trainer.max_steps_per_epoch={args.steps}",
               "trainer.progress=never", f"hydra.run.dir={run_dir}"]  # fmt: skip
    if args.threads:
        command.append(f"trainer.num_threads={args.threads}")
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary_path = run_dir / "summary.json"
    if proc.returncode != 0 or not summary_path.exists():
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["(no output)"]
        return {"error": lines[-1][:160], "wall": wall}
    return {**json.loads(summary_path.read_text()), "wall": wall}


def cell(result: dict) -> str:
    """``samples/s  metric=value ...`` of one run, or FAILED."""
    if "error" in result:
        return f"FAILED: {result['error']}"
    metrics = " ".join(f"{k.split('/', 1)[1]}={result[k]:.4f}" for k in METRICS
                       if isinstance(result.get(k), float))  # fmt: skip
    skipped = f" skipped={result['skipped_steps']}" if result.get("precision") == "16-mixed" else ""
    return f"{result['samples_per_second']:>9,.0f}/s  {metrics}{skipped}"


def table(results: dict[str, dict[str, dict]], devices: list[str]) -> str:
    lines = []
    for name in CHECKS:
        lines.append(name)
        for device in devices:
            lines.append(f"  {device:<5} {cell(results[device][name])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", action="store_true", help="no CUDA needed: the CPU runs alone")
    parser.add_argument("--steps", type=int, default=100, help="batches per run (one epoch)")
    parser.add_argument("--threads", type=int, default=None, help="CPU runs' torch threads")
    parser.add_argument("--root", default=os.environ.get("MTFW_DATA", "/tmp/mtfw-test-data"),
                        help="where MovieLens-100K is (data.root)")  # fmt: skip
    parser.add_argument("--out", default="outputs/gpu_check", help="the runs' directories")
    args = parser.parse_args(argv)
    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu:
        message = (f"gpu_check: no CUDA device here (torch {torch.__version__}, built for CUDA "
                   f"{torch.version.cuda}, torch.cuda.is_available() is False): run it on a "
                   "machine with a GPU, or pass --cpu to run the CPU reference alone")  # fmt: skip
        print(message, file=sys.stderr)
        return 2
    devices = ["cpu", "cuda"] if cuda else ["cpu"]
    if cuda:
        print(f"GPU: {torch.cuda.get_device_name(0)}, bf16: {torch.cuda.is_bf16_supported()}")
    print(f"torch {torch.__version__}; {args.steps} steps per run; runs in {args.out}")
    results: dict[str, dict[str, dict]] = {d: {} for d in devices}
    start = time.perf_counter()
    for name, overrides in CHECKS.items():
        for device in devices:
            results[device][name] = train(name, overrides, device, args)
            print(f"  done: {name} on {device} ({results[device][name]['wall']:.0f} s)",
                  flush=True)  # fmt: skip
    print(table(results, devices))
    print(f"total {time.perf_counter() - start:.0f} s")
    failed = any("error" in r for runs in results.values() for r in runs.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
