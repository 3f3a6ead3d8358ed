"""What a sweep leaves besides its trials: trials.csv, best.json or pareto.json, plots and
sweep.json (counts and timings of the last invocation)."""

from __future__ import annotations

import csv
import json
import logging
import shlex
import time
from collections import Counter
from pathlib import Path

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from mtfw.errors import MtfwError
from mtfw.sweep.plan import SweepPlan
from mtfw.sweep.plots import write_plots
from mtfw.sweep.storage import redact
from mtfw.user_config.run_record import command_line

log = logging.getLogger("mtfw.sweep")


class SweepFailed(MtfwError):
    """No trial of the study finished: the first error is the one to fix."""


def note(trial: FrozenTrial) -> str:
    attrs = trial.user_attrs
    if "error" in attrs:
        return attrs["error"]
    if "interrupted" in attrs or trial.state == TrialState.FAIL:
        return f"interrupted: {attrs.get('interrupted', 'its worker process ended')}"
    if trial.state == TrialState.PRUNED:
        return f"pruned after epoch {trial.last_step}" if trial.last_step else "pruned"
    return f"retry of trial {attrs['retry_of']}" if "retry_of" in attrs else ""


def worker(trial: FrozenTrial) -> str:
    """host:pid of the process that ran a trial (run directories live on that host)."""
    tag = trial.user_attrs.get("worker") or {}
    return f"{tag.get('host')}:{tag.get('pid')}" if tag else ""


def write_trials_csv(path: Path, trials: list[FrozenTrial], plan: SweepPlan) -> None:
    params = sorted({name for t in trials for name in t.params})
    keys = [o.key for o in plan.sweep.objectives]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["number", "state", *keys, *(f"params.{p}" for p in params),
                      "duration_seconds", "run_seconds", "run_dir", "worker", "note"])  # fmt: skip
        for t in trials:
            values = t.values if t.values else [None] * len(keys)
            duration = t.duration.total_seconds() if t.duration else None
            out.writerow([t.number, t.state.name, *values, *(t.params.get(p) for p in params),
                          duration, t.user_attrs.get("run_seconds"), t.user_attrs.get("run_dir"),
                          worker(t), note(t)])  # fmt: skip


def describe_trial(trial: FrozenTrial, plan: SweepPlan) -> dict:
    overrides = trial.user_attrs.get("overrides", [])
    return {
        "trial": trial.number,
        "values": dict(zip((o.key for o in plan.sweep.objectives), trial.values, strict=True)),
        "params": trial.params,
        "run_dir": trial.user_attrs.get("run_dir"),
        "overrides": overrides,
        "command": rerun_command(overrides, plan),
    }


def rerun_command(overrides: list[str], plan: SweepPlan) -> str:
    """The command that runs a trial again: ``mtfw train ...``, or for
    ``sweep.trial_launcher=torchrun`` the trial's ``torchrun ... -m mtfw.train ...``."""
    spec, folders = plan.sweep.spec, plan.sweep.request.folders
    if spec.trial_launcher != "torchrun":
        return command_line("train", overrides, folders)
    launcher = ["torchrun", f"--nproc-per-node={spec.nproc_per_node}", "-m", "mtfw.train"]
    return shlex.join([*launcher, *folders.flags(), *overrides])


def write_best(plan: SweepPlan, study: optuna.Study, complete: list) -> list[FrozenTrial]:
    objectives = [{"key": o.key, "direction": o.direction} for o in plan.sweep.objectives]
    if not complete:
        return []
    if len(plan.sweep.objectives) == 1:
        best = [study.best_trial]
        record = {"objective": objectives[0], **describe_trial(best[0], plan)}
        (plan.sweep_dir / "best.json").write_text(json.dumps(record, indent=2))
    else:
        best = sorted(study.best_trials, key=lambda t: t.number)
        trials = [describe_trial(t, plan) for t in best]
        record = {"objectives": objectives, "trials": trials}
        (plan.sweep_dir / "pareto.json").write_text(json.dumps(record, indent=2))
    return best


def write_outputs(plan: SweepPlan, storage: BaseStorage, timing: dict, started: float) -> str:
    """Write every output file; return the report to print. Raises SweepFailed if no trial ran."""
    study = optuna.load_study(study_name=plan.sweep.spec.study, storage=storage)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    write_trials_csv(plan.sweep_dir / "trials.csv", trials, plan)
    best = write_best(plan, study, complete)
    plots = write_plots(plan, study, trials, complete)
    states = Counter(t.state.name.lower() for t in trials)
    run_seconds = sum(t.user_attrs.get("run_seconds", 0.0) for t in trials)
    spec = plan.sweep.spec
    summary = {"name": spec.name, "study_name": spec.study, "storage": redact(spec.storage),
               "n_trials": len(trials), "states": states, "requested": spec.n_trials,
               "n_jobs": spec.n_jobs, "run_seconds": run_seconds,
               **timing, "wall_seconds": time.perf_counter() - started}  # fmt: skip
    (plan.sweep_dir / "sweep.json").write_text(json.dumps(summary, indent=2))
    counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    wall = summary["wall_seconds"]
    lines = [f"sweep '{spec.name}': {len(trials)} trials ({counts}) in {wall:.1f}s"]
    for t in best:
        values = "  ".join(
            f"{o.key}={v:.5g}" for o, v in zip(plan.sweep.objectives, t.values, strict=True)
        )
        params = " ".join(f"{k}={v}" for k, v in t.params.items())
        lines.append(f"{'best' if len(best) == 1 else 'pareto'} trial {t.number}: {values}")
        lines.append(f"    {params}  ({plan.sweep_dir / t.user_attrs.get('run_dir', '')})")
    made = ["trials.csv", *(["best.json" if len(best) == 1 else "pareto.json"] if best else [])]
    lines.append(f"sweep directory: {plan.sweep_dir}  ({', '.join([*made, *plots])})")
    if not any(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials):
        raise SweepFailed("\n".join([*lines, first_error(plan, trials)]))
    return "\n".join(lines)


def first_error(plan: SweepPlan, trials: list[FrozenTrial]) -> str:
    failed = [t for t in trials if "error" in t.user_attrs]
    if not failed:
        return "no trial finished, and none failed with an error (interrupted, or timed out)"
    first = failed[0]
    where = plan.sweep_dir / first.user_attrs.get("run_dir", "") / "train.log"
    return (
        f"every trial failed; the first error (trial {first.number}, details in {where}):\n"
        f"{first.user_attrs['error']}"
    )
