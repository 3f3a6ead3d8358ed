"""The one description of a sweep (frozen, picklable: spawned workers get it whole) and the plan
of one invocation of it: where it runs, and until when."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from mtfw.sweep.command import SweepRequest
from mtfw.sweep.objectives import Objective
from mtfw.sweep.spec import SweepSpec

CLAIM_LOCK = ".claim.lock"
TRIALS_DIR = "trials"


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: what was asked (``request``), its settings (``spec``) and what checking
    them found. Every later step reads from here; nothing copies its fields."""

    request: SweepRequest
    spec: SweepSpec  # the search space in spec.params is raw: each process parses it again
    tasks: list[str]  # the selected tasks ({task} placeholders)
    objectives: list[Objective]
    enqueue: list[dict]  # as Optuna stores the parameters

    @property
    def identity(self) -> dict:
        """What the study searches: a resumed or joined study must search the same."""
        identity = {
            "name": self.spec.name,
            "params": self.spec.params,
            "objectives": [[o.key, o.direction] for o in self.objectives],
            "overrides": self.request.overrides,
        }
        if self.request.folders:  # the same names in other folders are another study
            identity["config_dirs"] = [str(p) for p in self.request.folders.paths]
        return identity

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def prunable(self) -> bool:
        return len(self.objectives) == 1 and self.objectives[0].per_epoch


@dataclass(frozen=True)
class SweepPlan:
    """One invocation of a sweep: its directory, and when its workers stop starting trials."""

    sweep: Sweep
    sweep_dir: Path
    deadline: float | None  # time.time() after which no trial starts
    seed_offset: int = 0  # worker 0 seeds with seed + this, worker i with + i (join_workers)

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
    if sum(map(counts, trials)) >= plan.sweep.spec.n_trials:
        return "done"
    sampler = study.sampler
    if isinstance(sampler, optuna.samplers.GridSampler) and sampler.is_exhausted(study):
        return "grid exhausted"
    succeeded = any(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    failed = sum(t.state == TrialState.FAIL and "error" in t.user_attrs for t in trials)
    if not succeeded and failed >= plan.sweep.spec.fail_fast:
        return "every trial failed"
    if plan.deadline is not None and now > plan.deadline:
        return "timeout"
    return None
