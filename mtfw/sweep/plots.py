"""PNG plots of a study with matplotlib: optimisation history, parameter importances (PED-ANOVA,
which needs no scikit-learn) and, for two objectives, the Pareto front. A plot that cannot be drawn
(too few finished trials) is skipped with a log line; it never fails the sweep."""

from __future__ import annotations

import logging
import math
import warnings

import optuna
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from optuna.trial import FrozenTrial, TrialState

from mtfw.sweep.plan import SweepPlan

log = logging.getLogger("mtfw.sweep")


def _history(plan: SweepPlan, trials: list[FrozenTrial], complete: list[FrozenTrial]) -> Figure:
    objectives = plan.sweep.objectives
    fig = Figure(figsize=(7, 3.2 * len(objectives)), layout="constrained")
    axes = fig.subplots(len(objectives), 1, squeeze=False)[:, 0]
    for i, (ax, objective) in enumerate(zip(axes, objectives, strict=True)):
        numbers = [t.number for t in complete]
        values = [t.values[i] for t in complete]
        ax.scatter(numbers, values, s=18, label="complete")
        better = max if objective.direction == "maximize" else min
        best = [better(values[: k + 1]) for k in range(len(values))]
        ax.step(numbers, best, where="post", color="C3", label="best so far")
        if len(objectives) == 1:
            pruned = [t for t in trials if t.state == TrialState.PRUNED and t.intermediate_values]
            ax.scatter([t.number for t in pruned],
                       [t.intermediate_values[t.last_step] for t in pruned],
                       marker="x", color="grey", label="pruned (last report)")  # fmt: skip
        ax.set(xlabel="trial", ylabel=f"{objective.key} ({objective.direction})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small")
    fig.suptitle(f"sweep '{plan.sweep.spec.name}': optimisation history")
    return fig


def _importances(plan: SweepPlan, study: optuna.Study) -> Figure:
    evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    objectives = plan.sweep.objectives
    fig = Figure(figsize=(7, 0.8 + 2.6 * len(objectives)), layout="constrained")
    axes = fig.subplots(len(objectives), 1, squeeze=False)[:, 0]
    for i, (ax, objective) in enumerate(zip(axes, objectives, strict=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            target = None if len(objectives) == 1 else (lambda t, i=i: t.values[i])
            scores = optuna.importance.get_param_importances(
                study, evaluator=evaluator, target=target, normalize=True
            )
        names = list(scores)[::-1]
        ax.barh(names, [scores[n] for n in names])
        ax.set(xlabel=f"importance for {objective.key} (PED-ANOVA)")
    fig.suptitle(f"sweep '{plan.sweep.spec.name}': parameter importances")
    return fig


def _pareto(plan: SweepPlan, study: optuna.Study, complete: list[FrozenTrial]) -> Figure:
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    front = sorted(study.best_trials, key=lambda t: t.values[0])
    ax.scatter([t.values[0] for t in complete], [t.values[1] for t in complete], s=18,
               color="C0", label="trials")  # fmt: skip
    ax.plot([t.values[0] for t in front], [t.values[1] for t in front], "o-", color="C3",
            label="Pareto front")  # fmt: skip
    for t in front:
        ax.annotate(str(t.number), (t.values[0], t.values[1]), fontsize="x-small")
    x, y = plan.sweep.objectives
    ax.set(xlabel=f"{x.key} ({x.direction})", ylabel=f"{y.key} ({y.direction})")
    ax.legend(fontsize="small")
    fig.suptitle(f"sweep '{plan.sweep.spec.name}': Pareto front")
    return fig


def write_plots(plan: SweepPlan, study: optuna.Study, trials: list, complete: list) -> list[str]:
    """Write the plots that the finished trials allow; return their file names."""
    finite = [t for t in complete if all(math.isfinite(v) for v in t.values)]
    todo = {"history.png": lambda: _history(plan, trials, finite)}
    if len(finite) >= 2:
        todo["importances.png"] = lambda: _importances(plan, study)
    if len(plan.sweep.objectives) == 2 and finite:
        todo["pareto.png"] = lambda: _pareto(plan, study, finite)
    written = []
    for name, draw in todo.items():
        try:
            draw().savefig(plan.sweep_dir / name, dpi=110)
            written.append(name)
        except Exception as err:  # a plot is a convenience: report, never fail the sweep
            log.warning("%s not drawn: %s: %s", name, type(err).__name__, err)
    if len(finite) < 2:
        log.info("importances.png needs at least 2 completed trials; skipped")
    return written
