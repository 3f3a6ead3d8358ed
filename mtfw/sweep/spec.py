"""The ``sweep`` node of a composed config: ``conf/sweep/<name>.yaml`` plus ``sweep.*``
overrides, read once into a frozen :class:`SweepSpec` that every later step reads from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from omegaconf import DictConfig

from mtfw.errors import ConfigError
from mtfw.settings import closest, settings_from

DEFAULT_COMPONENT = {"sampler": "tpe", "pruner": "none"}
LAUNCHERS = ("process", "torchrun")


@dataclass(frozen=True)
class SweepSpec:
    name: str  # the conf/sweep/ file
    params: dict[str, Any] = field(default_factory=dict)  # the search space (mtfw.sweep.space)
    objectives: Any = None  # list of KEY or {KEY: direction} (see mtfw.sweep.objectives)
    n_trials: int = 20  # finished trials the study should hold (failed ones count, killed ones not)
    n_jobs: int = 1  # local worker processes on the study
    sampler: dict | str | None = field(default_factory=lambda: {"name": "tpe"})
    pruner: dict | str | None = field(default_factory=lambda: {"name": "none"})
    storage: str | None = None  # null: a journal file in the sweep directory; or an RDB URL
    study_name: str | None = None  # null: the sweep's name
    dir: str | None = None  # null: a new folder under outputs/sweeps/
    resume: bool = False  # continue the latest sweep of this name (or sweep.dir) instead
    allow_test_objective: bool = False  # permit a test/ objective (leaks test into selection)
    fail_fast: int = 5  # stop when this many trials failed and none succeeded yet
    timeout: float | None = None  # seconds after which no new trial starts
    enqueue: list = field(default_factory=list)  # [{param: value, ...}]: trials to run first
    trial_launcher: str = "process"  # process: in the worker | torchrun: one torchrun per trial
    nproc_per_node: int = 1  # the processes of each trial's torchrun (trial_launcher=torchrun)

    @classmethod
    def from_node(cls, name: str, node: DictConfig | dict) -> SweepSpec:
        """The settings of a ``sweep`` node, every key and value checked."""
        spec = settings_from(cls, node, "sweep", "setting", name=name)
        for key in ("params", "objectives"):
            if not getattr(spec, key):
                raise ConfigError(f"conf/sweep/{name}.yaml: '{key}' is missing or empty")
        for key in ("n_trials", "n_jobs", "fail_fast", "nproc_per_node"):
            value = getattr(spec, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"sweep.{key} must be a whole number >= 1, got {value!r}")
        if not isinstance(spec.params, dict):
            raise ConfigError("sweep.params: expected a mapping {config.key: search expression}")
        if not isinstance(spec.enqueue, list) or not all(isinstance(e, dict) for e in spec.enqueue):
            raise ConfigError("sweep.enqueue: expected a list of {param: value} mappings")
        if spec.trial_launcher not in LAUNCHERS:
            raise ConfigError(
                f"sweep.trial_launcher must be {' or '.join(LAUNCHERS)}, not "
                f"'{spec.trial_launcher}'{closest(str(spec.trial_launcher), list(LAUNCHERS))}"
            )
        if spec.nproc_per_node > 1 and spec.trial_launcher != "torchrun":
            raise ConfigError(
                f"sweep.nproc_per_node={spec.nproc_per_node} needs sweep.trial_launcher=torchrun "
                "(each trial one torchrun of that many processes); a trial of the default "
                "launcher runs in one process"
            )
        if spec.timeout is not None and spec.timeout <= 0:
            raise ConfigError(f"sweep.timeout must be positive seconds, got {spec.timeout}")
        return replace(
            spec,
            sampler=_component(spec.sampler, "sampler"),
            pruner=_component(spec.pruner, "pruner"),
        )

    @property
    def study(self) -> str:
        return self.study_name or self.name


def _component(node: Any, kind: str) -> dict:
    """``tpe`` or ``{name: tpe, seed: 0}`` -> a dict with a name."""
    if node is None:
        return {"name": DEFAULT_COMPONENT[kind]}
    if isinstance(node, str):
        return {"name": node}
    if not isinstance(node, dict) or "name" not in node:
        raise ConfigError(f"sweep.{kind}: expected a name or {{name: ..., options}}, got {node!r}")
    return dict(node)
