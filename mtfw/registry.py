"""The component registry: kinds -> names -> classes (DESIGN §6).

A config node names its component with ``name:``; every other key is a constructor keyword
argument. ``build`` checks those keys against the constructor's signature *before* anything is
constructed, so a misspelt key fails at once with the valid choices and the closest match.
Config files never import code: third-party components join through the ``mtfw.components``
entry-point group (each entry point is a module that registers its classes when imported).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from omegaconf import DictConfig, OmegaConf

from mtfw.errors import ConfigError
from mtfw.settings import closest
from mtfw.value_types import check_ranges, check_types, declared_types

# Each kind lists the runtime arguments the framework passes itself (never set from config).
KINDS: dict[str, tuple[str, ...]] = {
    "data": (),
    "encoder": ("in_dim", "task_names", "layout"),
    "expert": ("n", "in_dim", "layout"),
    "task": ("name",),
    "weighting": ("task_names", "task_weights"),
    "optim": ("params",),
    "metric": ("pred", "target"),
    "history": ("dim", "length"),
    "baseline": ("seed", "task_names"),
    "sampler": ("space", "n_objectives", "seed_offset"),
    "pruner": (),
    "text": (),
}
# Parameters holding a nested component node of another kind, besides those named after a kind;
# None: a parameter named after a kind that holds no component (a ranking task's negative sampler).
# (``text`` of a data node maps columns to text encoders, checked by the dataset itself.)
NESTED: dict[str, str | None] = {"shared": "encoder", "sampler": None, "text": None}
_REGISTRY: dict[str, dict[str, Callable]] = {kind: {} for kind in KINDS}
_BUILTIN_MODULES = (
    "mtfw.data",
    "mtfw.models",
    "mtfw.metrics",
    "mtfw.tasks",
    "mtfw.weighting",
    "mtfw.optim",
    "mtfw.baselines",
    "mtfw.sweep.samplers",
)
_loaded = False


def register(kind: str, name: str) -> Callable:
    """Class (or function) decorator: ``@register("weighting", "pcgrad")``."""
    if kind not in KINDS:
        raise ConfigError(f"unknown component kind '{kind}'; kinds: {sorted(KINDS)}")

    def decorate(obj: Callable) -> Callable:
        known = _REGISTRY[kind].get(name)
        if known is not None and known is not obj:
            raise ConfigError(f"{kind} '{name}' is registered twice: {known} and {obj}")
        _REGISTRY[kind][name] = obj
        obj.registry_name = name
        return obj

    return decorate


def load_components() -> None:
    """Import every module of the built-in component packages (a new file that registers a
    component is found without being listed anywhere) and every ``mtfw.components`` entry
    point."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in _BUILTIN_MODULES:
        importlib.import_module(name)
        folders = importlib.util.find_spec(name).submodule_search_locations or []  # a package's
        for found in pkgutil.walk_packages(folders, f"{name}."):
            importlib.import_module(found.name)
    for entry in entry_points(group="mtfw.components"):
        entry.load()


def names(kind: str) -> list[str]:
    load_components()
    if kind not in KINDS:
        raise ConfigError(
            f"unknown component kind '{kind}'; kinds: {sorted(KINDS)}{closest(kind, list(KINDS))}"
        )
    return sorted(_REGISTRY[kind])


def get(kind: str, name: str) -> Callable:
    choices = names(kind)
    if name not in _REGISTRY[kind]:
        raise ConfigError(
            f"unknown {kind} '{name}'. Registered {kind}s: {', '.join(choices)}."
            f"{closest(name, choices)}"
        )
    return _REGISTRY[kind][name]


def parameters(kind: str, name: str) -> dict[str, inspect.Parameter]:
    """The config-settable parameters of a component (its signature less the runtime ones)."""
    sig = inspect.signature(get(kind, name))
    return {
        p.name: p
        for p in sig.parameters.values()
        if p.name not in KINDS[kind] and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _as_dict(node: Mapping | DictConfig | str) -> dict[str, Any]:
    if isinstance(node, str):
        return {"name": node}
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    return dict(node)


def check(kind: str, node: Mapping | DictConfig | str, where: str = "") -> dict[str, Any]:
    """Validate a config node without building it; returns its constructor keyword arguments."""
    spec = _as_dict(node)
    where = where or kind
    if "name" not in spec:
        raise ConfigError(f"{where}: missing 'name:' (one of: {', '.join(names(kind))})")
    name = spec.pop("name")
    params = parameters(kind, name)
    for key in spec:
        if key not in params:
            raise ConfigError(
                f"{where}: {kind} '{name}' has no parameter '{key}'. "
                f"Its parameters: {', '.join(params) or '(none)'}.{closest(key, list(params))}"
            )
    declared = declared_types(get(kind, name))
    check_types(spec, declared, where)
    check_ranges(spec, declared, where)  # Count, Fraction, ...: before any data is loaded
    for key, value in spec.items():  # a parameter named after a kind is a nested component
        if NESTED.get(key, key) in KINDS and isinstance(value, (str, dict)):
            check(NESTED.get(key, key), value, f"{where}.{key}")
    missing = [p for p, v in params.items() if v.default is v.empty and p not in spec]
    if missing:
        raise ConfigError(f"{where}: {kind} '{name}' needs {', '.join(missing)}")
    return spec


def build(kind: str, node: Mapping | DictConfig | str, where: str = "", **runtime: Any) -> Any:
    """Build the component a config node names, passing the kind's runtime arguments."""
    kwargs = check(kind, node, where)
    name = _as_dict(node)["name"]
    expected = set(KINDS[kind])
    if set(runtime) != expected:
        raise TypeError(
            f"build('{kind}') takes runtime arguments {sorted(expected)}, got {sorted(runtime)}"
        )
    accepted = inspect.signature(get(kind, name)).parameters
    runtime = {k: v for k, v in runtime.items() if k in accepted}
    return get(kind, name)(**runtime, **kwargs)


def describe(kind: str, name: str) -> tuple[str, str]:
    """(one-line doc, 'param=default, ...') for `mtfw list`."""
    obj = get(kind, name)
    doc = (inspect.getdoc(obj) or "").strip().splitlines()
    params = []
    for p in parameters(kind, name).values():
        params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return (doc[0] if doc else ""), ", ".join(params)
