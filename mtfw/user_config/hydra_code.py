"""Code under ``hydra.``: refused on the command line and in user config files, unless opted in.

Hydra imports and calls every ``hydra.callbacks.<name>._target_`` when a run starts, and a
``_target_`` elsewhere under ``hydra.`` (a launcher, a sweeper) names a class it builds:
``+hydra.callbacks.x._target_=builtins.open`` runs code from a command line, and a ``train.yaml``
or experiment file in a user folder can do the same. mtfw's configs never import code, so both are
refused before Hydra runs anything; ``MTFW_ALLOW_HYDRA_CALLBACKS=1`` allows them for a user who
trusts the command and every file of the folders. A user file's code is found in the *composed*
config (defaults lists, package headers and interpolations included): every callback, and every
``_target_`` under ``hydra`` (or factory ``()`` and handler ``class`` of its logging configs, which
``logging.config`` imports and calls) that a composition of the shipped configs alone lacks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cache

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mtfw.errors import ConfigError
from mtfw.user_config.folders import CONF_DIR, ENV, UserFolders, active, searching
from mtfw.user_config.sources import PRIMARY, UserFile

ALLOW = "MTFW_ALLOW_HYDRA_CALLBACKS"
TARGET = re.compile(r"(?<!\w)_target_(?!\w)")  # a _target_ key, not a name containing it
OPT_IN = f"set {ALLOW}=1 to allow it if you trust the command and every file of the config folders"


def allowed() -> bool:
    """Whether the user opted in to code under ``hydra.`` (``MTFW_ALLOW_HYDRA_CALLBACKS=1``)."""
    return os.environ.get(ALLOW, "") == "1"


def refuse_code_override(override) -> None:
    """Refuse a command-line override that would make Hydra import and call code:
    ``hydra.callbacks``, or any ``_target_`` under ``hydra.``."""
    key = override.key_or_group
    if allowed() or not re.match(r"hydra[./]", key):
        return
    if re.match(r"hydra[./]callbacks(\W|$)", key) or TARGET.search(override.input_line):
        raise ConfigError(
            f"'{override.input_line}': an override may not set hydra.callbacks nor a _target_ "
            "under hydra., as Hydra would import and call that code when the run starts (mtfw's "
            "own configs never import code). Hydra's settings without code are allowed, e.g. "
            f"hydra.run.dir, hydra.sweep.dir, hydra.job.chdir; {OPT_IN}"
        )


def code_entries(node, path: str = "hydra", depth: int = 0) -> dict[str, str]:
    """``{key: value}`` of every callback and ``_target_`` in a composed ``hydra`` node,
    interpolations followed (an unresolvable one is kept as its text)."""
    found: dict[str, str] = {}
    if depth > 32 or not isinstance(node, (DictConfig, ListConfig)):
        return found
    keys = list(node.keys()) if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        try:
            value = node[key]
        except OmegaConfBaseException:  # ${hydra:..} and the like: known only inside a run
            value = OmegaConf.to_container(node, resolve=False)[key]
        here = f"{path}.{key}"
        if path == "hydra.callbacks":  # Hydra instantiates every entry: one finding each
            target = value.get("_target_") if isinstance(value, DictConfig) else value
            found[here] = str(target)
            continue
        if key in ("_target_", "()") or (key == "class" and "_logging." in here):
            found[here] = str(value)  # () and class: what logging.config builds from hydra's
        found.update(code_entries(value, here, depth + 1))
    return found


@cache
def shipped_entries(hydra_overrides: tuple[str, ...]) -> dict[str, str]:
    """The code entries of the shipped configs alone, with the command line's Hydra settings (or
    none, when those name a user file). Composed once per process and settings."""

    def entries(overrides: tuple[str, ...]) -> dict[str, str]:
        with searching(UserFolders()), initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            return code_entries(compose(PRIMARY, list(overrides), return_hydra_config=True).hydra)

    try:
        return entries(hydra_overrides)
    except (HydraException, OmegaConfBaseException):
        return entries(())


def hydra_settings(overrides: Sequence[str]) -> tuple[str, ...]:
    """The overrides of Hydra's own settings (``hydra.run.dir=..``, ``hydra/launcher=..``)."""
    return tuple(o for o in overrides if o.startswith(("hydra.", "hydra/")))


def refuse_user_code(
    overrides: Sequence[str], files: Sequence[UserFile], shipped: dict[str, str]
) -> None:
    """Refuse code under ``hydra`` that user files bring into the composition with ``overrides``
    (Hydra initialised on the user folders) beyond ``shipped`` (:func:`shipped_entries`), naming
    the files that hold it."""
    if allowed() or not files:
        return
    try:
        node = compose(PRIMARY, overrides=list(overrides), return_hydra_config=True).hydra
    except (HydraException, OmegaConfBaseException) as err:
        text = str(err).strip().splitlines()[0]
        raise ConfigError(f"cannot compose the config with your folders: {text}") from None
    extra = {k: v for k, v in code_entries(node).items() if shipped.get(k) != v}
    if not extra:
        return
    holders = [str(f.source) for f in files
               if re.search(r"callbacks|_target_|\(\)|class", f.source.read_text())]  # fmt: skip
    where = ", ".join(holders) or "a file of " + ", ".join(map(str, active().paths))
    found = "; ".join(f"{k} calls {v}" for k, v in extra.items())
    raise ConfigError(
        f"{where}: {found}. A config file may not set hydra.callbacks nor a _target_ under "
        "hydra, as Hydra would import and call that code when the run starts (mtfw's configs "
        f"never import code; user folders come from --config-dir and {ENV}). Remove it, or "
        f"{OPT_IN}"
    )
