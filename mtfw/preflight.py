"""Checks on the command line before Hydra runs: clearer errors, and no run overwritten.

Hydra rejects an unknown config choice or key too, but without the closest match; it writes
``.hydra/`` into ``hydra.run.dir`` before any of our code runs, so a directory holding a run is
refused here, as Hydra will resolve it (``${oc.env:...}``); it accepts a key mtfw never reads
(``+foo=1``) and calls any ``_target_`` under ``hydra.callbacks``: both refused here. The checks
search the user's config folders (``mtfw.user_config``) as Hydra will.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from mtfw.errors import ConfigError
from mtfw.hydra_flags import check_flags
from mtfw.registry import closest
from mtfw.run_guard import CLAIM, holder
from mtfw.user_config.check import check_user_files
from mtfw.user_config.folders import CONF_DIR, ENV, active
from mtfw.user_config.hydra_code import refuse_code_override
from mtfw.user_config.sources import group_options, primary_file

RUN_DIRS = ("hydra.run.dir", "hydra.sweep.dir")


def config_groups() -> dict[str, list[str]]:
    """``{group: [option, ...]}`` over ``conf/`` and the user's config folders."""
    return {group: list(options) for group, options in group_options().items()}


def _unknown_choice(group: str, choice: str) -> ConfigError:
    options = group_options()[group]
    places = [f"{f}/{group}/" for f in active().paths if (f / group).is_dir()]
    places += [f"conf/{group}/"] if (CONF_DIR / group).is_dir() else []
    return ConfigError(
        f"unknown {group} '{choice}'. Available in {' and '.join(places)}: "
        f"{', '.join(options)}.{closest(choice, list(options))}"
    )


def _choices(override) -> list[str]:
    if override.is_sweep_override():
        return [str(v) for v in override.sweep_string_iterator()]
    value = override.value()
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def missing_key(cfg: DictConfig, key: str) -> tuple[str, str] | None:
    """None when ``key`` is in ``cfg``; else (the first part of its path that is not, "Keys under
    'parent': a, b. Did you mean 'c'?"). The one check of a key for `mtfw train` overrides and for
    the parameters a sweep searches."""
    parts = key.split(".")
    for depth, part in enumerate(parts):
        parent_key, missing = ".".join(parts[:depth]), ".".join(parts[: depth + 1])
        parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
        if not isinstance(parent, DictConfig):  # the path goes on below a plain value
            return missing, f"'{parent_key}' holds a value, not keys."
        if part not in parent:
            keys = [str(k) for k in parent]
            return missing, (
                f"Keys under '{parent_key or '(top)'}': {', '.join(keys)}.{closest(part, keys)}"
            )
    return None


def _check_key(cfg: DictConfig, key: str, text: str) -> None:
    missing = missing_key(cfg, key)
    if missing is not None:
        first, hint = missing
        raise ConfigError(
            f"'{text}': there is no config key '{first}'. {hint} (to add a new key, write +{text})"
        )


def top_level_keys(groups: dict[str, list[str]]) -> list[str]:
    """The keys mtfw reads at the top of a config: train.yaml's (a user folder's when it has one)
    and the config groups."""
    own = OmegaConf.load(primary_file())
    return sorted({str(k) for k in own if k != "defaults"} | set(groups))


def refuse_used(target: Path, key: str = "hydra.run.dir") -> None:
    """Refuse a run directory that holds anything but this process's claim of it."""
    if not target.is_dir() or not any(p.name != CLAIM for p in target.iterdir()):
        return
    pid = holder(target)
    if pid is not None and pid != os.getpid():
        raise ConfigError(
            f"{key}={target} is in use: process {pid} is training in it. A new run never writes "
            "into another; choose a new directory"
        )
    raise ConfigError(
        f"{key}={target} already exists and is not empty: a new run never writes into an earlier "
        "one. Choose a new directory, or resume=<run_dir> to continue it (from its last "
        "checkpoint, or from scratch in that directory when it stopped before its first one)"
    )


def resolved_dir(key: str, text: str, overrides: list[str]) -> Path:
    """``key``'s directory as Hydra will make it: the config composed with the overrides, its
    interpolations (``${oc.env:..}``, ``${now:..}``, other keys) resolved. The literal text when
    it has none, or when it cannot be resolved outside a running Hydra app."""
    if "${" not in text:
        return Path(text)
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=overrides, return_hydra_config=True)
        cfg.hydra.job.name = "train"  # as Hydra names the job of mtfw/train.py
        return Path(str(OmegaConf.select(cfg, key, throw_on_resolution_failure=True)))
    except Exception:  # e.g. ${hydra:...}, known only inside the app: the run's own check stays
        return Path(text)


def _refuse_searchpath(override) -> None:
    if override.key_or_group == "hydra.searchpath":
        raise ConfigError(
            f"'{override.input_line}': mtfw searches your config folders itself, before its own "
            f"configs (Hydra's search path would put them after): name them with --config-dir DIR "
            f"or {ENV}=DIR1:DIR2"
        )


def _refuse_stray_key(override, top_keys: list[str]) -> None:
    top = re.split(r"[./]", override.key_or_group)[0]
    if top not in top_keys:
        raise ConfigError(
            f"'{override.input_line}': unknown top-level key '{top}'; mtfw would never read it. "
            f"Top-level keys: {', '.join(top_keys)}.{closest(top, top_keys)} (a new key goes "
            "under one of them, e.g. +trainer.<key>=...)"
        )


def _refuse_repeats(override) -> None:
    """``task=[income,income]``: Hydra would keep one and say nothing; a run has each once."""
    value = None if override.is_sweep_override() else override.value()
    if isinstance(value, list):
        repeated = sorted({str(v) for v in value if value.count(v) > 1})
        if repeated:
            raise ConfigError(
                f"'{override.input_line}' names {', '.join(repeated)} more than once: a run has "
                f"each {override.key_or_group} once"
            )


def preflight(argv: list[str]) -> Path | None:
    """Raise a ConfigError for an unknown config choice or key, code under ``hydra.``, or a used
    run directory. Returns the resolved ``hydra.run.dir`` of a single run given one that resolves
    the same later (no ``${now:..}``, no flags such as -m or --cfg), for ``mtfw train`` to claim
    before Hydra writes there; else None."""
    check_flags(argv)
    groups = config_groups()
    if any(a.startswith(("--config-name", "-cn", "--config-path", "-cp")) for a in argv):
        groups = {}  # another primary config: leave every check to Hydra
    texts = [a for a in argv if "=" in a and not a.startswith("-")]
    try:
        overrides = OverridesParser.create().parse_overrides(texts)
    except OverrideParseException:
        return None  # Hydra reports grammar errors itself
    for o in overrides:
        refuse_code_override(o)
        _refuse_searchpath(o)
    top_keys = top_level_keys(groups) if groups else []
    group_overrides, keys, swept_group, claim = [], [], False, None
    single = not any(a.startswith("-") for a in argv) and not any(
        o.key_or_group == "hydra.mode" for o in overrides
    )
    for o in overrides:
        key = o.key_or_group
        if key in RUN_DIRS and not o.is_sweep_override():
            text = str(o.value())
            target = resolved_dir(key, text, texts) if groups else Path(text)
            refuse_used(target, key)
            if key == "hydra.run.dir" and single and "${now:" not in text:
                claim = target
        if top_keys and (o.is_add() or o.is_force_add()):
            _refuse_stray_key(o, top_keys)
        if key in groups and o.is_delete() is False:
            _refuse_repeats(o)
            for choice in _choices(o):
                if choice not in groups[key]:
                    raise _unknown_choice(key, choice)
            swept_group |= o.is_sweep_override()
            group_overrides.append(o.input_line)
        elif o.is_add() is False and o.is_force_add() is False and not key.startswith("hydra"):
            keys.append((key, o.input_line))
    if keys and groups and not swept_group:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=group_overrides)
        for key, text in keys:
            _check_key(cfg, key, text)
    if groups:
        check_user_files(overrides, groups)  # code under hydra refused, shadowing files announced
    return claim
