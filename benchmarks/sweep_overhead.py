"""Per-trial overhead of ``mtfw sweep``: the sweep's wall time minus the trials' own time.

    .venv/bin/python benchmarks/sweep_overhead.py [--trials 20] [--jobs 1 2] [--json out.json]
        [--overrides experiment=synthetic data.n_samples=1000 trainer.max_epochs=2]

Runs the real command (``python -m mtfw sweep sweep=task_weights ...``) on tiny trials in a
temporary directory, once per worker count. A trial's own time is what ``mtfw.train.run`` spends
on it (data, model, training, evaluation, run record: what ``mtfw train`` would spend after its
start-up), recorded per trial as ``run_seconds`` in ``trials.csv``. Reported per trial:

- overhead: (wall - sum of trials' own time) / trials. With N workers the trials overlap, so this
  can go negative; ``worker overhead`` = (N x wall - sum) / trials counts worker-seconds instead.
- the parts, from ``sweep.json``: interpreter and imports (the command's wall minus the driver's),
  setup (compose, checks, study creation), outputs (trials.csv, best/pareto json, plots).

Target (issue 6): overhead under 0.5 s per trial with one worker.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ["experiment=synthetic", "data.n_samples=1000", "trainer.max_epochs=2"]
TARGET = 0.5


def measure(trials: int, jobs: int, overrides: list[str], workdir: Path) -> dict:
    sweep_dir = workdir / f"jobs{jobs}"
    command = [sys.executable, "-m", "mtfw", "sweep", "sweep=task_weights",
               f"sweep.n_trials={trials}", f"sweep.n_jobs={jobs}", f"sweep.dir={sweep_dir}",
               *overrides]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(command, cwd=workdir, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    with open(sweep_dir / "trials.csv", newline="") as f:
        own = sum(float(row["run_seconds"]) for row in csv.DictReader(f))
    record = json.loads((sweep_dir / "sweep.json").read_text())
    outputs = record["wall_seconds"] - record["setup_seconds"] - record["trials_seconds"]
    return {
        "jobs": jobs,
        "trials": record["n_trials"],
        "wall_seconds": wall,
        "trials_own_seconds": own,
        "overhead_per_trial": (wall - own) / trials,
        "worker_overhead_per_trial": (jobs * wall - own) / trials,
        "startup_seconds": wall - record["wall_seconds"],
        "setup_seconds": record["setup_seconds"],
        "outputs_seconds": outputs,
        "loop_overhead_per_trial": (jobs * record["trials_seconds"] - own) / trials,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--overrides", nargs="*", default=TINY)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    print(f"mtfw sweep overhead: {args.trials} tiny trials ({' '.join(args.overrides)}), "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="mtfw-sweep-bench-") as tmp:
        for jobs in args.jobs:
            results.append(r := measure(args.trials, jobs, args.overrides, Path(tmp)))
            print(
                f"  {jobs} worker(s): wall {r['wall_seconds']:.1f}s, trials' own time "
                f"{r['trials_own_seconds']:.1f}s -> overhead {r['overhead_per_trial']:.3f} s/trial"
                f" (worker-seconds {r['worker_overhead_per_trial']:.3f} s/trial; in the trial "
                f"loop {r['loop_overhead_per_trial']:.3f} s/trial; start-up "
                f"{r['startup_seconds']:.1f}s, setup {r['setup_seconds']:.1f}s, outputs "
                f"{r['outputs_seconds']:.1f}s)"
            )
    one = next((r for r in results if r["jobs"] == 1), None)
    if one is not None:
        verdict = "meets" if one["overhead_per_trial"] < TARGET else "misses"
        print(f"one worker: {one['overhead_per_trial']:.3f} s/trial {verdict} the target "
              f"< {TARGET} s/trial")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
