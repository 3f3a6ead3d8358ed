"""The whole search space of a sweep: its parameters in sampling order, and per-trial sampling.

A key with ``{task}`` stands for one parameter per selected task (``task.{task}.weight``).
Unconditional parameters are sampled first and composed with Hydra in one call; conditional ones
are then sampled only where their condition holds in that composed config, and set in it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution

from mtfw.errors import ConfigError
from mtfw.settings import closest
from mtfw.sweep.compose import Composed, compose_config, has_key
from mtfw.sweep.space import Param, parse_param
from mtfw.sweep.values import format_value, same_value


@dataclass
class SearchSpace:
    params: list[Param]  # unconditional first, then conditional, each in declared order
    fixed: list[str]  # plain values in ``params``: overrides applied to every trial

    @classmethod
    def parse(
        cls,
        raw: Mapping[str, Any],
        tasks: Sequence[str],
        groups: Mapping[str, list],
        fixed_keys: Collection[str] = (),
    ) -> SearchSpace:
        """Parse ``sweep.params``; keys the command line fixes (``fixed_keys``) are left out."""
        params, fixed = [], []
        for key, entry in raw.items():
            paths = [str(key).replace("{task}", t) for t in tasks] if "{task}" in key else [key]
            for path in (p for p in paths if p not in fixed_keys):
                if "{" in path or "}" in path:
                    raise ConfigError(f"sweep.params.{key}: the one placeholder is {{task}}")
                parsed = parse_param(str(path), entry)
                (fixed if isinstance(parsed, str) else params).append(parsed)
        if not params:
            raise ConfigError("sweep.params: nothing to search; give at least one choice/interval")
        ordered = [p for p in params if p.when is None] + [p for p in params if p.when is not None]
        space = cls(ordered, fixed)
        space._check_conditions(groups)
        return space

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.params]

    def get(self, path: str) -> Param | None:
        return next((p for p in self.params if p.path == path), None)

    def _check_conditions(self, groups: Mapping[str, list]) -> None:
        for i, param in enumerate(self.params):
            if not isinstance(param.when, dict):
                continue
            for key, allowed in param.when.items():
                ref = self.get(key)
                where = f"sweep.params.{param.path}.when"
                if ref is None and key not in groups:
                    raise ConfigError(
                        f"{where}: '{key}' is neither a parameter of this sweep nor a config "
                        f"group. Parameters: {', '.join(self.names)}.{closest(key, self.names)}"
                    )
                if ref is not None and self.params.index(ref) > i:
                    raise ConfigError(f"{where}: declare '{key}' before '{param.path}'")
                if ref is not None and isinstance(ref.distribution, CategoricalDistribution):
                    texts = [format_value(c) for c in ref.choices]
                    options = groups.get(key, [])  # another option of the group: never matches
                    for value in allowed:
                        if not any(same_value(value, c) for c in [*ref.choices, *options]):
                            raise ConfigError(
                                f"{where}: {key}={format_value(value)} is not among its choices "
                                f"({', '.join(texts)}).{closest(format_value(value), texts)}"
                            )

    def grid(self) -> dict[str, list]:
        return {p.path: p.grid_values() for p in self.params}

    def applies(self, param: Param, values: dict, composed: Composed) -> bool:
        if param.when is None:
            return True
        if param.when == "present":
            return has_key(composed.cfg, param.path)
        for key, allowed in param.when.items():
            if key in values:
                actual = values[key]
            else:
                actual = composed.choice(key)
                actual = OmegaConf.select(composed.cfg, key) if actual is None else actual
            if not any(same_value(actual, a) for a in allowed):
                return False
        return True

    def sample(self, trial, overrides: Sequence[str]) -> tuple[Composed, dict[str, Any]]:
        """Suggest every applicable parameter; return the composed trial config and the values."""
        values: dict[str, Any] = {}
        sampled = []
        for param in self.params:
            if param.when is None:
                values[param.path] = param.suggest(trial)
                sampled.append(param.override(values[param.path]))
        composed = compose_config([*self.fixed, *overrides, *sampled])
        for param in self.params:
            if param.when is None or not self.applies(param, values, composed):
                continue
            if not has_key(composed.cfg, param.path):
                raise ConfigError(
                    f"sweep.params.{param.path}: its condition holds but the config has no such key"
                )
            values[param.path] = value = param.suggest(trial)
            OmegaConf.update(composed.cfg, param.path, value, merge=False)
            composed.overrides.append(param.override(value))
        return composed, values
