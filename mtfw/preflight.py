"""Checks on the command line before Hydra runs: clearer errors, and no run overwritten.

Hydra rejects an unknown config choice or key too, but without the closest match; and it writes
``.hydra/`` into ``hydra.run.dir`` before any of our code runs, so a run directory that already
holds a run must be refused here, before Hydra touches it.
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from mtfw.errors import ConfigError
from mtfw.registry import closest

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def config_groups() -> dict[str, list[str]]:
    """``{group: [option, ...]}`` for every folder of ``conf/``."""
    return {
        d.name: sorted(p.stem for p in d.glob("*.yaml"))
        for d in sorted(CONF_DIR.iterdir())
        if d.is_dir()
    }


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


def preflight(argv: list[str]) -> None:
    """Raise a ConfigError for an unknown config choice or key, or a used run directory."""
    groups = config_groups()
    if any(a.startswith(("--config-name", "-cn", "--config-dir", "-cd", "--config-path", "-cp"))
           for a in argv):  # fmt: skip
        groups = {}  # another primary config: leave every check to Hydra
    try:
        overrides = OverridesParser.create().parse_overrides(
            [a for a in argv if "=" in a and not a.startswith("-")]
        )
    except OverrideParseException:
        return  # Hydra reports grammar errors itself
    group_overrides, keys, swept_group = [], [], False
    for o in overrides:
        key = o.key_or_group
        if key in ("hydra.run.dir", "hydra.sweep.dir") and not o.is_sweep_override():
            target = Path(str(o.value()))
            if target.is_dir() and any(target.iterdir()):
                raise ConfigError(
                    f"{key}={target} already exists and is not empty: a new run never writes "
                    f"into an earlier one. Choose a new directory, or resume=<run_dir>"
                )
        if key in groups and o.is_delete() is False:
            for choice in _choices(o):
                if choice not in groups[key]:
                    raise ConfigError(
                        f"unknown {key} '{choice}'. Available in conf/{key}/: "
                        f"{', '.join(groups[key])}.{closest(choice, groups[key])}"
                    )
            swept_group |= o.is_sweep_override()
            group_overrides.append(o.input_line)
        elif o.is_add() is False and o.is_force_add() is False and not key.startswith("hydra"):
            keys.append((key, o.input_line))
    if keys and groups and not swept_group:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=group_overrides)
        for key, text in keys:
            _check_key(cfg, key, text)
