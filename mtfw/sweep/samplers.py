"""Optuna samplers and pruners by name, their options checked against their signatures."""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable

import optuna

from mtfw.errors import ConfigError
from mtfw.registry import closest
from mtfw.sweep.search import SearchSpace

SAMPLERS: dict[str, Callable] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "grid": optuna.samplers.GridSampler,
    "nsga2": optuna.samplers.NSGAIISampler,
    "cmaes": optuna.samplers.CmaEsSampler,
}
PRUNERS: dict[str, Callable] = {
    "median": optuna.pruners.MedianPruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "hyperband": optuna.pruners.HyperbandPruner,
    "none": optuna.pruners.NopPruner,
}
SINGLE_OBJECTIVE = {"cmaes"}


def _lookup(table: dict[str, Callable], node: dict, kind: str) -> tuple[str, Callable, dict]:
    options = dict(node)
    name = str(options.pop("name"))
    if name not in table:
        raise ConfigError(
            f"sweep.{kind}.name: unknown {kind} '{name}'; {kind}s: {', '.join(table)}."
            f"{closest(name, list(table))}"
        )
    accepted = [p for p in inspect.signature(table[name]).parameters if p != "search_space"]
    for key in options:
        if key not in accepted:
            raise ConfigError(
                f"sweep.{kind}: {kind} '{name}' has no option '{key}'. Its options: "
                f"{', '.join(accepted) or '(none)'}.{closest(key, accepted)}"
            )
    return name, table[name], options


def build_sampler(
    node: dict, space: SearchSpace, n_objectives: int, seed_offset: int = 0
) -> optuna.samplers.BaseSampler:
    """The sampler of ``sweep.sampler``; each worker gets its own seed (seed + seed_offset)."""
    name, cls, options = _lookup(SAMPLERS, node, "sampler")
    if name in SINGLE_OBJECTIVE and n_objectives > 1:
        raise ConfigError(
            f"sweep.sampler: {name} optimises one objective; this sweep has {n_objectives}. "
            "Use nsga2, tpe, random or grid"
        )
    if name == "cmaes" and importlib.util.find_spec("cmaes") is None:
        raise ConfigError("sweep.sampler: cmaes needs the cmaes package: pip install 'mtfw[cmaes]'")
    seed = options.get("seed", 0)  # seeded by default: a sweep re-run samples the same points
    options["seed"] = None if seed is None else int(seed) + seed_offset
    if name == "tpe":
        options.setdefault("constant_liar", True)  # parallel workers avoid sampling alike
    if name == "grid":
        return cls(space.grid(), **options)
    return cls(**options)


def build_pruner(node: dict, pruning_possible: bool) -> optuna.pruners.BasePruner:
    name, cls, options = _lookup(PRUNERS, node, "pruner")
    if name != "none" and not pruning_possible:
        raise ConfigError(
            f"sweep.pruner: {name} needs a single objective reported every epoch (a val/ key); "
            "set sweep.pruner=none or choose one val/ objective"
        )
    return cls(**options)
