"""Multi-task versus single-task: MTL gain, the multi-task score Delta_m and the seesaw flag.

MTL gain (Tang et al., PLE, RecSys 2020, Eq. 11): ``M_MTL - M_single`` for a metric where higher
is better, ``M_single - M_MTL`` where lower is better; in the metric's own units, so positive
always means multi-task learning helped the task.

Delta_m (Maninis et al., CVPR 2019): ``100/T * sum_t (-1)^l_t (M_m,t - M_b,t) / M_b,t`` with
``l_t = 1`` when lower is better for task t's metric: the mean relative change over tasks, in %.

Seesaw (Tang et al. 2020): one task gains while another loses.

Both compare group means over seeds with a baseline group of ``single_task`` runs on the same data
and tasks (see ``single_task_baseline``).
"""

from __future__ import annotations

import math

from mtfw.report.direction import better
from mtfw.report.group import Group, experiment_keys

SINGLE_TASK = "single_task"
ENCODER = "encoder.name"


def mtl_gain(mtl: float, single: float, higher_is_better: bool) -> float:
    """Eq. 11 of Tang et al. (2020): positive when the multi-task model is better."""
    return mtl - single if higher_is_better else single - mtl


def relative_change(value: float, baseline: float, higher_is_better: bool) -> float:
    """``(-1)^l (M - M_b) / M_b * 100``: one task's term of Delta_m, in %."""
    if baseline == 0:
        return math.nan
    sign = 1.0 if higher_is_better else -1.0
    return sign * (value - baseline) / abs(baseline) * 100.0


def delta_m(values: dict[str, float], baselines: dict[str, float]) -> float:
    """Delta_m in % over the metric keys of ``values`` (one per task), NaN if any is missing."""
    terms = [relative_change(values[k], baselines.get(k, math.nan), better(k)) for k in values]
    if not terms or any(math.isnan(t) for t in terms):
        return math.nan
    return sum(terms) / len(terms)


def seesaw(gains: list[float]) -> bool:
    """True when some task gains and another loses (gains of NaN are ignored)."""
    known = [g for g in gains if not math.isnan(g)]
    return any(g > 0 for g in known) and any(g < 0 for g in known)


def is_single_task(group: Group) -> bool:
    return ENCODER in group.runs and set(group.runs[ENCODER]) == {SINGLE_TASK}


def problem(group: Group) -> tuple:
    """What a single-task baseline must share with a group: the data settings and the tasks
    (``data.*`` and the task names), taken from the group's first run."""
    run = group.runs.iloc[0]
    keys = experiment_keys(group.runs)
    data = tuple((k, str(run[k])) for k in keys if k.startswith("data."))
    tasks = tuple(sorted({k.split(".")[1] for k in keys if k.startswith("task.")
                          and str(run[k]) not in ("nan", "None")}))  # fmt: skip
    return data, tasks


def single_task_baseline(group: Group, groups: list[Group]) -> Group | None:
    """The ``single_task`` group on the same data and tasks that agrees with ``group`` on the most
    other --by values (so ``mmoe/uncertainty`` is compared with ``single_task/uncertainty`` when
    both exist); None for a single-task group itself or when there is none."""
    if is_single_task(group):
        return None
    candidates = [g for g in groups if is_single_task(g) and problem(g) == problem(group)]
    if not candidates:
        return None

    def agreement(candidate: Group) -> int:
        return sum(candidate.values.get(k) == v for k, v in group.values.items() if k != ENCODER)

    return max(candidates, key=agreement)  # the first of equals: the order of the runs
