"""Which user files a composition reads, and the one line saying a user file shadows a shipped one.

Hydra's defaults list names every config file a composition reads (``train``, ``task/income``,
...); the first source on the search path holding it is the one Hydra reads. A file from a user
folder whose name the shipped ``mtfw/conf/`` also has *shadows* it: mtfw says so once per file and
process, on stderr (``task/income.yaml: using /home/u/proj/task/income.yaml (shadows the shipped
one)``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode

from mtfw.user_config.folders import CONF_DIR, active

PRIMARY = "train"
_announced: set[Path] = set()


@dataclass(frozen=True)
class UserFile:
    """A config file read from a user folder."""

    name: str  # its path in the layout: "task/income.yaml", "train.yaml"
    source: Path  # the file read
    shadows: bool  # whether mtfw/conf/ has a file of the same name (which was not read)


def files_read(overrides: Sequence[str], multirun: bool = False) -> list[UserFile]:
    """The user files a composition with ``overrides`` reads, in the defaults list's order.
    Needs Hydra initialised (``initialize_config_dir`` or inside ``hydra.main``)."""
    folders = set(active().paths)
    if not folders:
        return []
    loader = GlobalHydra.instance().config_loader()
    mode = RunMode.MULTIRUN if multirun else RunMode.RUN
    defaults = loader.compute_defaults_list(PRIMARY, list(overrides), mode).defaults
    sources = loader.get_sources()
    found: dict[str, UserFile] = {}
    for default in defaults:
        config_path = default.config_path
        if config_path is None or config_path in found:
            continue
        source = next((s for s in sources if s.is_config(config_path)), None)
        if source is None or source.scheme() != "file" or Path(source.path) not in folders:
            continue
        name = f"{config_path}.yaml"
        found[config_path] = UserFile(name, Path(source.path) / name, (CONF_DIR / name).is_file())
    return list(found.values())


def shadow_line(file: UserFile) -> str:
    return f"{file.name}: using {file.source} (shadows the shipped one)"


def announce(files: Sequence[UserFile]) -> None:
    """Say once per process, for each user file that shadows a shipped one, which file is used."""
    for file in files:
        if file.shadows and file.source not in _announced:
            _announced.add(file.source)
            print(shadow_line(file), file=sys.stderr)


def group_options() -> dict[str, dict[str, Path]]:
    """``{group: {option: folder}}`` over every searched folder (the first folder of an option
    wins), for the pre-flight checks of config choices."""
    groups: dict[str, dict[str, Path]] = {}
    for folder in active().search_order:
        for group in sorted(d for d in folder.iterdir() if d.is_dir()):
            options = groups.setdefault(group.name, {})
            for path in sorted(group.glob("*.yaml")):
                options.setdefault(path.stem, folder)
    return {g: dict(sorted(o.items())) for g, o in sorted(groups.items()) if o}


def primary_file() -> Path:
    """The ``train.yaml`` a composition starts from: the first searched folder's that has one."""
    return next(f / "train.yaml" for f in active().search_order if (f / "train.yaml").is_file())
