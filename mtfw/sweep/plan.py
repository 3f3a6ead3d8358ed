"""What every worker of a sweep needs to know (picklable, so spawned processes get it whole)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from mtfw.sweep.objectives import Objective

CLAIM_LOCK = ".claim.lock"
TRIALS_DIR = "trials"


@dataclass
class SweepPlan:
    name: str
    sweep_dir: Path
    storage_url: str | None
    study_name: str
    params: dict[str, Any]  # the raw search space; each process parses it again
    tasks: list[str]  # the selected tasks ({task} placeholders)
    objectives: list[Objective]
    overrides: list[str]  # fixed trial overrides from the command line
    fixed_keys: list[str]  # their keys: left out of the search space
    n_trials: int
    n_jobs: int
    sampler: dict
    pruner: dict
    fail_fast: int
    deadline: float | None  # time.time() after which no trial starts
    seed_offset: int = 0  # differs per resume, so a resumed study samples new points

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def prunable(self) -> bool:
        return len(self.objectives) == 1 and self.objectives[0].per_epoch

    def run_dir(self, number: int) -> Path:
        return self.sweep_dir / TRIALS_DIR / f"{number:04d}"


def counts(trial: FrozenTrial) -> bool:
    """Whether a trial counts toward ``n_trials``: done, running, or failed with an error
    (an interrupted trial, whose worker died, does not count: it is queued again)."""
    if trial.state == TrialState.FAIL:
        return "error" in trial.user_attrs
    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


def stop_reason(study: optuna.Study, plan: SweepPlan, now: float) -> str | None:
    """Why no further trial should start, or None."""
    trials = study.get_trials(deepcopy=False)
    if sum(map(counts, trials)) >= plan.n_trials:
        return "done"
    sampler = study.sampler
    if isinstance(sampler, optuna.samplers.GridSampler) and sampler.is_exhausted(study):
        return "grid exhausted"
    succeeded = any(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    failed = sum(t.state == TrialState.FAIL and "error" in t.user_attrs for t in trials)
    if not succeeded and failed >= plan.fail_fast:
        return "every trial failed"
    if plan.deadline is not None and now > plan.deadline:
        return "timeout"
    return None
