"""Check a search space against ``conf/`` before any trial: every key exists where it is searched.

A parameter under a searched config group (``encoder.n_experts`` while ``encoder`` is searched) is
checked in the config of every option of that group: an unconditional one must exist in all of
them, a conditional one in at least one (``when: present`` then samples it only where it exists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mtfw.errors import ConfigError
from mtfw.preflight import missing_key
from mtfw.settings import closest
from mtfw.sweep.compose import Composed, compose_config, has_key
from mtfw.sweep.search import SearchSpace
from mtfw.sweep.values import format_value, same_value


def _check_group_choices(space: SearchSpace, groups: Mapping[str, list[str]]) -> None:
    for param in space.params:
        if param.path not in groups:
            continue
        options = groups[param.path]
        for choice in param.choices or ():
            if str(choice) not in options:
                raise ConfigError(
                    f"sweep.params.{param.path}: unknown {param.path} '{format_value(choice)}'. "
                    f"Available in conf/{param.path}/: {', '.join(options)}."
                    f"{closest(str(choice), options)}"
                )
        if not param.choices:
            raise ConfigError(f"sweep.params.{param.path}: search a config group with choice(...)")


def check_space(space: SearchSpace, overrides: Sequence[str], groups: Mapping[str, list[str]]):
    """Raise a ConfigError naming the first parameter whose key no config has."""
    _check_group_choices(space, groups)
    base = [*space.fixed, *overrides]
    cache: dict[tuple, Composed] = {}

    def variant(group: str | None, option: str | None) -> Composed:
        if (group, option) not in cache:
            extra = [] if group is None else [f"{group}={option}"]
            cache[group, option] = compose_config([*base, *extra])
        return cache[group, option]

    searched = {p.path: p for p in space.params if p.path in groups}
    for param in space.params:
        if param.path in groups:
            continue
        root = param.path.split(".")[0]
        options: list = [None]
        if root in searched:
            options = [str(c) for c in searched[root].choices]
        group = root if options != [None] else None
        having = [o for o in options if has_key(variant(group, o).cfg, param.path)]
        if not having and param.when is not None and root in groups:
            # a conditional key of an option not searched now (encoder.levels of ple): fine if
            # some option of the group has it, so narrowing a choice keeps the sweep valid
            if any(has_key(variant(root, o).cfg, param.path) for o in groups[root]):
                continue
            options, group = groups[root], root
        where = f"sweep.params.{param.path}"
        if not having:
            scope = f" in any {root} ({', '.join(options)})" if group else ""
            _, hint = missing_key(variant(group, options[0]).cfg, param.path) or ("", "")
            raise ConfigError(f"{where}: there is no config key '{param.path}'{scope}. {hint}")
        if param.when is None and len(having) < len(options):
            missing = [o for o in options if o not in having]
            raise ConfigError(
                f"{where}: only {root} {', '.join(having)} (not {', '.join(missing)}) have this "
                "key; declare it conditional: {values: ..., when: present}"
            )


def check_enqueue(space: SearchSpace, enqueue: list[dict]) -> list[dict]:
    """``sweep.enqueue`` as Optuna stores it, each key and categorical value checked."""
    stored = []
    for entry in enqueue:
        params = {}
        for key, value in entry.items():
            param = space.get(str(key))
            if param is None:
                raise ConfigError(
                    f"sweep.enqueue: '{key}' is not a parameter of this sweep; parameters: "
                    f"{', '.join(space.names)}.{closest(str(key), space.names)}"
                )
            if param.choices:
                matches = [i for i, c in enumerate(param.choices) if same_value(value, c)]
                if not matches:
                    raise ConfigError(
                        f"sweep.enqueue: {key}={format_value(value)} is not one of its choices"
                    )
                value = param.distribution.choices[matches[0]]
            params[str(key)] = value
        stored.append(params)
    return stored
