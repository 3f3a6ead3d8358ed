"""Objectives: ``summary.json`` keys with directions, never a test-split metric by default.

objectives:
  - val/mean/loss                  # direction from the metric (loss: minimize)
  - val/weighted/loss              # the sum of task.<name>.weight x loss
  - val/{task}/{metric}: maximize  # one objective per selected task, its first metric
  - n_parameters: minimize
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mtfw.errors import ConfigError
from mtfw.metrics import higher_is_better
from mtfw.settings import closest
from mtfw.tasks import Task

# Summary keys that are not split metrics; the metrics module knows the direction of the first
# three, the others need one given (objectives: [{best_epoch: min}]).
SCALARS = (
    "n_parameters",
    "train_seconds",
    "samples_per_second",
    "monitor_value",
    "best_epoch",
    "epochs_trained",
)
DIRECTIONS = {"maximize": "maximize", "max": "maximize", "minimize": "minimize", "min": "minimize"}


@dataclass(frozen=True)
class Objective:
    key: str
    direction: str  # maximize | minimize

    @property
    def per_epoch(self) -> bool:
        """Whether every validation pass reports it (so a pruner can use it)."""
        return self.key.startswith("val/")


def _items(raw: Any) -> list[tuple[str, str]]:
    items = [raw] if isinstance(raw, (str, Mapping)) else list(raw or [])
    if not items:
        raise ConfigError(
            "sweep.objectives: give at least one summary.json key, e.g. val/mean/loss"
        )
    pairs = []
    for item in items:
        if isinstance(item, str):
            pairs.append((item, "auto"))
        elif isinstance(item, Mapping):
            pairs.extend((str(k), str(v)) for k, v in item.items())
        else:
            raise ConfigError(f"sweep.objectives: expected KEY or {{KEY: direction}}, got {item!r}")
    return pairs


def summary_keys(tasks: Mapping[str, Task]) -> list[str]:
    metrics = {t: task.eval_keys() for t, task in tasks.items()}
    means = sorted({m for ms in metrics.values() for m in ms})
    keys = [f"{s}/{t}/{m}" for s in ("val", "test") for t, ms in metrics.items() for m in ms]
    keys += [f"{s}/mean/{m}" for s in ("val", "test") for m in means]
    if any(task.train and "loss" in metrics[t] for t, task in tasks.items()):
        keys += ["val/weighted/loss", "test/weighted/loss"]  # sum of task weight x loss
    return keys + list(SCALARS)


def _direction(key: str, direction: str) -> str:
    if direction != "auto":
        if direction not in DIRECTIONS:
            raise ConfigError(
                f"sweep.objectives: direction '{direction}' of {key}: use maximize, minimize or "
                f"auto.{closest(direction, [*DIRECTIONS, 'auto'])}"
            )
        return DIRECTIONS[direction]
    try:
        higher = higher_is_better(key.rsplit("/", 1)[-1])
    except ConfigError:  # no direction registered for it
        raise ConfigError(f"sweep.objectives: say whether to maximize or minimize {key}") from None
    return "maximize" if higher else "minimize"


def parse_objectives(raw: Any, tasks: Mapping[str, Task], allow_test: bool) -> list[Objective]:
    known = summary_keys(tasks)
    objectives: list[Objective] = []
    for template, direction in _items(raw):
        if "{task}" in template:
            keys = [
                template.format(task=t, metric=task.primary_metric()) for t, task in tasks.items()
            ]
        elif "{" in template:
            raise ConfigError(f"sweep.objectives: {template}: placeholders are {{task}} {{metric}}")
        else:
            keys = [template]
        for key in keys:
            if key.startswith("test/") and not allow_test:
                raise ConfigError(
                    f"sweep.objectives: '{key}' is a test-split metric; selecting on it leaks the "
                    f"test set into model selection. Use 'val/{key[5:]}', or set "
                    "sweep.allow_test_objective=true to do it anyway"
                )
            if key not in known:
                raise ConfigError(
                    f"sweep.objectives: '{key}' is not a summary.json key of these tasks. "
                    f"Keys: {', '.join(k for k in known if not k.startswith('test/'))}."
                    f"{closest(key, known)}"
                )
            if any(o.key == key for o in objectives):
                raise ConfigError(f"sweep.objectives: '{key}' is listed twice")
            objectives.append(Objective(key, _direction(key, direction)))
    return objectives
