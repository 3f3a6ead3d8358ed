"""A sweep's search space: the ``params`` grammar of Hydra's Optuna sweeper, plus conditions.

    params:
      encoder: choice(shared_bottom, mmoe)        # categorical (any values, lists included)
      optim.lr: tag(log, interval(1e-4, 1e-2))    # float on a log scale
      encoder.n_experts:                          # conditional: only where the composed config
        values: int(interval(2, 8))               #   has the key (the gated encoders)
        when: present
      encoder.expert_hidden:                      # conditional on other parameters' values
        values: choice([32], [64])
        when: {encoder: [mmoe]}
      trainer.patience: 2                         # not a sweep: fixed for every trial

``range(a, b[, step])`` excludes ``b`` as in Hydra; ``int(interval(a, b))`` includes both ends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from mtfw.errors import ConfigError
from mtfw.settings import closest
from mtfw.sweep.values import encode_choice, format_value, parse_override

GRAMMAR = (
    "write choice(a, b, ...), range(start, stop[, step]), interval(low, high), "
    "int(interval(low, high)) or tag(log, interval(low, high))"
)


@dataclass(frozen=True)
class Param:
    """One searched config key; ``when`` is None, ``"present"`` or ``{param: (values, ...)}``."""

    path: str
    distribution: BaseDistribution
    choices: tuple = ()  # the real values of a categorical, in the order of distribution.choices
    when: str | dict[str, tuple] | None = None

    def suggest(self, trial) -> Any:
        d = self.distribution
        if isinstance(d, CategoricalDistribution):
            return self.real(trial.suggest_categorical(self.path, d.choices))
        if isinstance(d, IntDistribution):
            return trial.suggest_int(self.path, d.low, d.high, step=d.step, log=d.log)
        return trial.suggest_float(self.path, d.low, d.high, step=d.step, log=d.log)

    def real(self, stored: Any) -> Any:
        """The config value of a value Optuna stored (lists travel as text)."""
        if isinstance(self.distribution, CategoricalDistribution):
            return dict(zip(self.distribution.choices, self.choices, strict=True)).get(
                stored, stored
            )
        return stored

    def override(self, value: Any) -> str:
        return f"{self.path}={format_value(value)}"

    def grid_values(self) -> list:
        d = self.distribution
        if isinstance(d, CategoricalDistribution):
            return list(d.choices)
        if d.step is None or d.log:
            raise ConfigError(
                f"sweep.params.{self.path}: the grid sampler needs a finite set of values; "
                "write choice(...) or range(...) instead of interval(...)"
            )
        n = round((d.high - d.low) / d.step) + 1
        return [d.low + i * d.step for i in range(n)]


def _interval(path: str, sweep: IntervalSweep, log: bool) -> BaseDistribution:
    low, high = sweep.start, sweep.end
    if not low < high:
        raise ConfigError(f"sweep.params.{path}: interval({low}, {high}) needs low < high")
    if log and low <= 0:
        raise ConfigError(f"sweep.params.{path}: a log interval needs low > 0, got {low}")
    if isinstance(low, int) and isinstance(high, int):
        return IntDistribution(low, high, log=log)
    return FloatDistribution(float(low), float(high), log=log)


def _range(path: str, sweep: RangeSweep) -> BaseDistribution:
    start, stop, step = sweep.start, sweep.stop, sweep.step
    n = math.ceil((stop - start) / step) if step > 0 else 0
    if n < 1:
        raise ConfigError(f"sweep.params.{path}: range({start}, {stop}, step={step}) is empty")
    if all(isinstance(v, int) for v in (start, stop, step)):
        return IntDistribution(start, start + step * (n - 1), step=step)
    return FloatDistribution(start, round(start + step * (n - 1), 12), step=step)


def _distribution(path: str, sweep: Any) -> tuple[BaseDistribution, tuple]:
    tags = set(getattr(sweep, "tags", ()))
    if tags - {"log"}:
        bad = sorted(tags - {"log"})[0]
        raise ConfigError(
            f"sweep.params.{path}: unknown tag '{bad}'; the one tag is log.{closest(bad, ['log'])}"
        )
    if isinstance(sweep, IntervalSweep):
        return _interval(path, sweep, "log" in tags), ()
    if "log" in tags:
        raise ConfigError(f"sweep.params.{path}: tag(log, ...) applies to interval(...) only")
    if isinstance(sweep, RangeSweep):
        return _range(path, sweep), ()
    if isinstance(sweep, ChoiceSweep):
        values = tuple(sweep.list)
        if any(not isinstance(v, (type(None), bool, int, float, str, list, dict)) for v in values):
            raise ConfigError(f"sweep.params.{path}: choice(...) takes plain values; {GRAMMAR}")
        encoded = tuple(encode_choice(v) for v in values)
        if len(set(map(format_value, values))) < len(values):
            raise ConfigError(f"sweep.params.{path}: choice(...) lists a value twice")
        return CategoricalDistribution(encoded), values
    raise ConfigError(f"sweep.params.{path}: unsupported sweep '{sweep}'; {GRAMMAR}")


def _when(path: str, when: Any) -> str | dict[str, tuple] | None:
    if when is None or when == "present":
        return when
    if isinstance(when, Mapping) and when:
        return {str(k): tuple(v) if isinstance(v, (list, tuple)) else (v,) for k, v in when.items()}
    raise ConfigError(
        f"sweep.params.{path}.when: expected 'present' (the key exists in the chosen config) "
        f"or {{param: [values, ...]}}, got {when!r}"
    )


def parse_param(path: str, entry: Any) -> Param | str:
    """A Param, or the fixed override text of an entry that is a plain value."""
    when = None
    if isinstance(entry, Mapping):
        unknown = [str(k) for k in entry if k not in ("values", "when")]
        if unknown or "values" not in entry:
            raise ConfigError(
                f"sweep.params.{path}: a conditional parameter has 'values' and 'when' only"
                + (
                    f", not '{unknown[0]}'.{closest(unknown[0], ['values', 'when'])}"
                    if unknown
                    else ""
                )
            )
        when, entry = _when(path, entry.get("when")), entry["values"]
    text = entry if isinstance(entry, str) else format_value(entry)
    override = parse_override(f"{path}={text}", f"sweep.params.{path}")
    if override.is_add() or override.is_force_add() or override.is_delete():
        raise ConfigError(f"sweep.params.{path}: a parameter names an existing key (no +, ++, ~)")
    if not override.is_sweep_override():
        if when is not None:
            raise ConfigError(
                f"sweep.params.{path}: a conditional parameter needs a sweep; {GRAMMAR}"
            )
        return f"{path}={text}"
    distribution, choices = _distribution(path, override.value())
    return Param(path, distribution, choices, when)
