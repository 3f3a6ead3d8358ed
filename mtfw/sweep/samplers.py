"""Optuna samplers and pruners as registry components (kinds ``sampler`` and ``pruner``).

Each name is a factory whose keyword arguments are its Optuna class's (mtfw's defaults shown), so
``registry.check`` rejects a misspelt option with the same message as for any other component and
``mtfw list sampler`` shows every option. ``sweep.sampler`` / ``sweep.pruner`` name one of them.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import optuna

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.registry import register

if TYPE_CHECKING:
    from mtfw.sweep.search import SearchSpace

SEEDED = {"seed": 0}  # a sweep re-run samples the same points unless told otherwise


def optuna_options(optuna_class: type, **defaults: Any) -> Callable[[Callable], Callable]:
    """Give a factory the keyword arguments of ``optuna_class`` (less ``search_space``, which a
    sweep supplies) as its signature, with mtfw's ``defaults``; the factory gets those defaults
    unless the config sets them, and Optuna's own defaults for everything else."""

    def decorate(make: Callable) -> Callable:
        own = [p for p in inspect.signature(make).parameters.values() if p.kind != p.VAR_KEYWORD]
        options = [
            p.replace(kind=p.KEYWORD_ONLY, default=defaults.get(p.name, p.default))
            for p in inspect.signature(optuna_class).parameters.values()
            if p.name != "search_space" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

        @functools.wraps(make)
        def factory(*args: Any, **given: Any) -> Any:
            return make(*args, **{**defaults, **given})

        factory.__signature__ = inspect.Signature([*own, *options])  # type: ignore[attr-defined]
        return factory

    return decorate


def _seeded(options: dict, seed_offset: int) -> dict:
    """Each worker gets its own seed: ``seed + seed_offset`` (None stays unseeded), wrapped into
    the 32 bits NumPy accepts."""
    seed = options.get("seed")
    return {**options, "seed": None if seed is None else (int(seed) + seed_offset) % 2**32}


@register("sampler", "tpe")
@optuna_options(optuna.samplers.TPESampler, **SEEDED, constant_liar=True)
def tpe(space: SearchSpace, n_objectives: int, seed_offset: int, **options: Any):
    """Tree-structured Parzen estimator (Optuna's default); constant_liar keeps workers apart."""
    return optuna.samplers.TPESampler(**_seeded(options, seed_offset))


@register("sampler", "random")
@optuna_options(optuna.samplers.RandomSampler, **SEEDED)
def random(space: SearchSpace, n_objectives: int, seed_offset: int, **options: Any):
    """Independent uniform draws from the search space."""
    return optuna.samplers.RandomSampler(**_seeded(options, seed_offset))


@register("sampler", "grid")
@optuna_options(optuna.samplers.GridSampler, **SEEDED)
def grid(space: SearchSpace, n_objectives: int, seed_offset: int, **options: Any):
    """Every combination of choice(...) and range(...) values, in random order."""
    return optuna.samplers.GridSampler(space.grid(), **_seeded(options, seed_offset))


@register("sampler", "nsga2")
@optuna_options(optuna.samplers.NSGAIISampler, **SEEDED)
def nsga2(space: SearchSpace, n_objectives: int, seed_offset: int, **options: Any):
    """NSGA-II, a genetic algorithm for several objectives (a Pareto front)."""
    return optuna.samplers.NSGAIISampler(**_seeded(options, seed_offset))


@register("sampler", "cmaes")
@optuna_options(optuna.samplers.CmaEsSampler, **SEEDED)
def cmaes(space: SearchSpace, n_objectives: int, seed_offset: int, **options: Any):
    """CMA-ES for one objective over numeric parameters (needs the cmaes package)."""
    if n_objectives > 1:
        raise ConfigError(
            f"sweep.sampler: cmaes optimises one objective; this sweep has {n_objectives}. "
            "Use nsga2, tpe, random or grid"
        )
    if importlib.util.find_spec("cmaes") is None:
        raise ConfigError("sweep.sampler: cmaes needs the cmaes package: pip install 'mtfw[cmaes]'")
    return optuna.samplers.CmaEsSampler(**_seeded(options, seed_offset))


@register("pruner", "median")
@optuna_options(optuna.pruners.MedianPruner)
def median(**options: Any):
    """Stop a trial whose value falls below the median of earlier trials at the same epoch."""
    return optuna.pruners.MedianPruner(**options)


@register("pruner", "successive_halving")
@optuna_options(optuna.pruners.SuccessiveHalvingPruner)
def successive_halving(**options: Any):
    """Asynchronous successive halving: keep the best share of trials at each rung."""
    return optuna.pruners.SuccessiveHalvingPruner(**options)


@register("pruner", "hyperband")
@optuna_options(optuna.pruners.HyperbandPruner)
def hyperband(**options: Any):
    """Hyperband: successive halving over several budgets at once."""
    return optuna.pruners.HyperbandPruner(**options)


@register("pruner", "none")
@optuna_options(optuna.pruners.NopPruner)
def none(**options: Any):
    """Never prune: every trial trains to its end."""
    return optuna.pruners.NopPruner(**options)


def _known(kind: str, node: dict) -> None:
    """An unknown name, said with its place in the sweep (registry.get names no place)."""
    try:
        registry.get(kind, str(node["name"]))
    except ConfigError as err:
        raise ConfigError(f"sweep.{kind}: {err}") from None


def build_sampler(
    node: dict, space: SearchSpace, n_objectives: int, seed_offset: int = 0
) -> optuna.samplers.BaseSampler:
    """The sampler of ``sweep.sampler``; each worker gets its own seed (seed + seed_offset)."""
    _known("sampler", node)
    return registry.build("sampler", node, "sweep.sampler", space=space,
                          n_objectives=n_objectives, seed_offset=seed_offset)  # fmt: skip


def build_pruner(node: dict, pruning_possible: bool) -> optuna.pruners.BasePruner:
    """The pruner of ``sweep.pruner``; any but ``none`` needs one objective reported per epoch."""
    _known("pruner", node)
    registry.check("pruner", node, "sweep.pruner")
    if node["name"] != "none" and not pruning_possible:
        raise ConfigError(
            f"sweep.pruner: {node['name']} needs a single objective reported every epoch (a val/ "
            "key); set sweep.pruner=none or choose one val/ objective"
        )
    return registry.build("pruner", node, "sweep.pruner")
