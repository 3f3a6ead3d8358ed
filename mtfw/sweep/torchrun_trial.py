"""``sweep.trial_launcher=torchrun``: each trial one ``torchrun --nproc-per-node=N -m mtfw.train``.

The worker that claimed the trial starts, as a subprocess, the ``mtfw train`` run a user would
type under torchrun: the trial's overrides, ``hydra.run.dir=<sweep dir>/trials/<number>``, the
config folders of the sweep. ``--standalone`` gives each launch its own rendezvous on a port the
system picks (``localhost:0``), so trials side by side (``sweep.n_jobs``, several workers on one
machine) never collide. Rank 0 writes the run directory as for any torchrun run; the objective
is read from its ``summary.json`` as for an in-process trial.

Pruning works: while the run trains, each epoch's row of ``metrics.jsonl`` (written by rank 0 at
the epoch's end) goes to the pruner; a trial to prune is stopped by SIGTERM to torchrun (every
rank stops at once, as a killed run does) and recorded ``pruned``. As in process, no trial is
pruned after its ``trainer.max_epochs``-th epoch, nor once its run has ended (polled every
0.5 s: a run whose epochs are shorter may have trained more epochs than the pruner saw when it
stops); one whose early stop falls on the epoch the pruner stops is pruned.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna

import mtfw
from mtfw.errors import ConfigError, MtfwError
from mtfw.record import RunRecord
from mtfw.sweep.compose import Composed
from mtfw.sweep.search import SearchSpace
from mtfw.sweep.spec import SweepSpec
from mtfw.user_config.folders import UserFolders

OnEval = Callable[[int, dict, bool], None]
POLL_SECONDS = 0.5


class TorchrunFailed(MtfwError):
    """A trial's torchrun ended with a non-zero exit code."""


def check_torchrun_trials(spec: SweepSpec, space: SearchSpace, composed: Composed) -> None:
    """Refuse, before any trial, what one torchrun per trial cannot run: a classical baseline
    (fitted in one process), fixed by an override or searched; a fixed batch smaller than the
    processes."""
    if spec.trial_launcher != "torchrun":
        return
    fixed = composed.cfg.get("baseline") is not None or any(
        f.startswith("baseline=") for f in space.fixed
    )
    if fixed or any(p.path == "baseline" for p in space.params):
        raise ConfigError(
            "sweep.trial_launcher=torchrun cannot run a classical baseline (baseline=...: "
            "fitted in one process); sweep baselines with sweep.trial_launcher=process, or "
            "networks under torchrun"
        )
    batch = composed.cfg.trainer.batch_size
    searched = any(p.path == "trainer.batch_size" for p in space.params)
    if not searched and isinstance(batch, int) and batch < spec.nproc_per_node:
        raise ConfigError(
            f"trainer.batch_size={batch} is smaller than sweep.nproc_per_node="
            f"{spec.nproc_per_node}: every rank of a trial's torchrun needs rows of each (global) "
            "batch; use a batch of at least the number of processes"
        )


def command(composed: Composed, run_dir: Path, nproc: int, folders: UserFolders) -> list[str]:
    """The trial's launch: torchrun (as ``python -m torch.distributed.run``) of ``mtfw.train``."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc-per-node={nproc}", "-m", "mtfw.train", *folders.flags(),
            *composed.overrides, f"hydra.run.dir={run_dir}"]  # fmt: skip


def epoch_rows(run_dir: Path) -> list[dict]:
    """The evaluation rows of ``metrics.jsonl`` so far (complete lines only)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    lines = path.read_text().split("\n")[:-1]  # the last may be half written
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if "kind" not in r and "epoch" in r]


def launch(composed: Composed, run_dir: Path, nproc: int, folders: UserFolders,
           on_eval: OnEval | None, output: Path) -> dict:  # fmt: skip
    """Run the trial under torchrun (console output into ``output``), report each epoch to
    ``on_eval``; returns the run's summary. A pruned trial (``on_eval`` raises) or an interrupted
    sweep (KeyboardInterrupt) stops torchrun with SIGTERM first."""
    # The trial runs the mtfw this driver imported (an editable or PYTHONPATH checkout included).
    source = str(Path(mtfw.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [source, *filter(None, [os.environ.get("PYTHONPATH")])])}  # fmt: skip
    max_epochs = int(composed.cfg.trainer.max_epochs)
    with output.open("w") as out:
        proc = subprocess.Popen(command(composed, run_dir, nproc, folders), stdout=out,
                                stderr=subprocess.STDOUT, env=env)  # fmt: skip
        reported = 0
        try:
            while True:
                done = proc.poll() is not None
                for row in epoch_rows(run_dir)[reported:] if on_eval else []:
                    reported += 1
                    on_eval(row["epoch"], row, done or row["epoch"] >= max_epochs)
                if done:
                    break
                time.sleep(POLL_SECONDS)
        except optuna.TrialPruned:
            stop(proc)  # every rank stops now
            mark_pruned(run_dir)
            raise
        except BaseException:  # the sweep stopped (Ctrl-C, SIGTERM): the trial is interrupted
            stop(proc)
            raise
    summary = RunRecord(run_dir).summary_path
    if proc.returncode != 0:
        raise TorchrunFailed(
            f"torchrun --nproc-per-node={nproc} -m mtfw.train exited with code "
            f"{proc.returncode}; {last_error(output)} (the trial's log: {run_dir}/train.log)"
        )
    return json.loads(summary.read_text())


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to torchrun, which passes it to every rank (status ``interrupted``)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def mark_pruned(run_dir: Path) -> None:
    """A run stopped for the pruner: its summary says ``pruned`` (SIGTERM wrote interrupted)."""
    record = RunRecord(run_dir)
    if not record.summary_path.exists():
        return
    summary = json.loads(record.summary_path.read_text())
    if summary.get("status") == "interrupted":
        record.write_summary({**summary, "status": "pruned"})


def last_error(output: Path) -> str:
    """The line of the trial's output that says what failed (mtfw's ``error:`` line, else the
    last line)."""
    lines = [line for line in output.read_text().splitlines() if line.strip()]
    errors = [line for line in lines if "mtfw: error:" in line]
    return (errors or lines or ["no output"])[-1].strip()[:500]
