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

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mtfw.errors import ConfigError
from mtfw.user_config.folders import CONF_DIR, ENV, UserFolders, active, searching
from mtfw.user_config.sources import PRIMARY, files_read

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


def _hydra_node(overrides: Sequence[str], folders: UserFolders) -> DictConfig:
    with searching(folders), initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(PRIMARY, overrides=list(overrides), return_hydra_config=True).hydra


def shipped_entries(overrides: Sequence[str]) -> dict[str, str]:
    """The code entries of the shipped configs alone, with the command line's Hydra settings (or
    none, when those name a user file)."""
    own = [o for o in overrides if o.startswith(("hydra.", "hydra/"))]
    try:
        return code_entries(_hydra_node(own, UserFolders()))
    except (HydraException, OmegaConfBaseException):
        return code_entries(_hydra_node([], UserFolders()))


def refuse_user_code(override_sets: Sequence[Sequence[str]]) -> None:
    """Compose each set of overrides with the user folders (before Hydra runs anything) and
    refuse code under ``hydra`` that the user files brought in, naming the files that hold it."""
    folders = active()
    if allowed() or not folders or not override_sets:
        return
    shipped = shipped_entries(override_sets[0])
    for overrides in override_sets:
        try:
            node = _hydra_node(overrides, folders)
        except (HydraException, OmegaConfBaseException) as err:
            text = str(err).strip().splitlines()[0]
            raise ConfigError(f"cannot compose the config with your folders: {text}") from None
        extra = {k: v for k, v in code_entries(node).items() if shipped.get(k) != v}
        if extra:
            with searching(folders), initialize_config_dir(str(CONF_DIR), version_base="1.3"):
                files = files_read(overrides)
            holders = [str(f.source) for f in files
                       if re.search(r"callbacks|_target_", f.source.read_text())]  # fmt: skip
            where = ", ".join(holders) or "a file of " + ", ".join(map(str, folders.paths))
            found = "; ".join(f"{k} calls {v}" for k, v in extra.items())
            raise ConfigError(
                f"{where}: {found}. A config file may not "
                "set hydra.callbacks nor a _target_ under hydra, as Hydra would import and call "
                f"that code when the run starts (mtfw's configs never import code; user folders "
                f"come from --config-dir and {ENV}). Remove it, or {OPT_IN}"
            )
