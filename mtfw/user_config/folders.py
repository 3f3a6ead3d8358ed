"""Where the user's config folders come from, and Hydra's search path with them first.

``--config-dir DIR`` (repeatable; ``--config-dir=DIR`` and ``-cd DIR`` too) and
``MTFW_CONFIG_PATH=DIR1:DIR2`` name folders with ``mtfw/conf/``'s layout. The search order is the
command line's folders, then the environment's, then the shipped configs: the first folder holding
``<group>/<name>.yaml`` (or ``train.yaml``) wins. Hydra's own ``--config-dir`` appends its folder
*after* the primary config's, so a user file with a shipped name would lose; mtfw reads the flag
itself and puts its folders before ``mtfw/conf/`` with a search-path plugin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

from mtfw.errors import ConfigError
from mtfw.hydra_flags import check_config_dir

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"  # shipped in the package (and wheel)
ENV = "MTFW_CONFIG_PATH"
FLAGS = ("--config-dir", "-cd")


@dataclass(frozen=True)
class UserFolders:
    """The user's folders in search order, each with where it was named (a flag or ``ENV``)."""

    paths: tuple[Path, ...] = ()
    origins: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.paths)

    @property
    def search_order(self) -> list[Path]:
        """Every folder searched, the shipped configs last."""
        return [*self.paths, CONF_DIR]

    def flags(self) -> list[str]:
        """``--config-dir`` arguments that name these folders again (a re-run's command line)."""
        return [f"--config-dir={path}" for path in self.paths]


def split_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the folders named by ``--config-dir``/``-cd``, the other arguments)."""
    dirs, rest, args = [], [], iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name not in FLAGS:
            rest.append(arg)
        elif eq:
            dirs.append(value)
        else:
            value = next(args, None)
            if value is None or value.startswith("-"):
                raise ConfigError(f"{name} needs a folder: {name} DIR (a folder like mtfw/conf/)")
            dirs.append(value)
    return dirs, rest


def _checked(text: str, origin: str) -> Path:
    path = Path(text).expanduser().resolve()
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise ConfigError(
            f"{origin} {text}: {path} {what}. A config folder has mtfw/conf/'s layout (data/, "
            f"task/, experiment/, sweep/, ...); name it with --config-dir DIR or {ENV}=DIR1:DIR2"
        )
    check_config_dir(path, origin)  # Hydra would print a traceback for a file it cannot read
    return path


def resolve(flag_dirs: list[str], environ: dict[str, str] | None = None) -> UserFolders:
    """The user's folders: the command line's first, then ``$MTFW_CONFIG_PATH``'s (checked)."""
    env = (os.environ if environ is None else environ).get(ENV, "")
    named = [(d, "--config-dir") for d in flag_dirs]
    named += [(d, ENV) for d in env.split(os.pathsep) if d.strip()]
    paths, origins = [], []
    for text, origin in named:
        path = _checked(text, origin)
        if path not in paths and path != CONF_DIR:  # a folder searched twice finds nothing new
            paths.append(path)
            origins.append(origin)
    return UserFolders(tuple(paths), tuple(origins))


_active = UserFolders()


def active() -> UserFolders:
    """The folders the running command searches (none unless :func:`searching` set them)."""
    return _active


class UserFolderSearchPath(SearchPathPlugin):
    """Puts the active user folders just before the primary config's folder (``mtfw/conf/``)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for path, origin in zip(_active.paths, _active.origins, strict=True):
            search_path.prepend(provider=origin, path=f"file://{path}", anchor="main")


@contextmanager
def searching(folders: UserFolders) -> Iterator[UserFolders]:
    """Hydra searches ``folders`` first while the block runs (Hydra initialised inside it)."""
    global _active
    Plugins.instance().register(UserFolderSearchPath)  # once per process; a no-op after
    previous, _active = _active, folders
    try:
        yield folders
    finally:
        _active = previous
