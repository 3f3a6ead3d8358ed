"""Compose configs with Hydra's compose API on ``conf/`` (config ``train``), as ``mtfw train``
does."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mtfw.errors import ConfigError
from mtfw.preflight import CONF_DIR, missing_key


@contextmanager
def hydra_context() -> Iterator[None]:
    """Initialise Hydra on ``conf/`` for the duration of the block (once per process)."""
    if GlobalHydra.instance().is_initialized():
        yield
        return
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield


@dataclass
class Composed:
    cfg: DictConfig  # the run config, without the hydra node (what `mtfw train` passes to run())
    hydra: DictConfig  # the hydra node: choices of each config group, the overrides
    overrides: list[str]

    def choice(self, group: str) -> str | None:
        """The option chosen for a config group (``encoder`` -> ``mmoe``), None if not a group."""
        value = self.hydra.runtime.choices.get(group)
        return None if value is None else str(value)


def compose_config(overrides: Sequence[str]) -> Composed:
    try:
        full = compose("train", overrides=list(overrides), return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as err:
        text = str(err).strip().splitlines()[0]
        raise ConfigError(f"cannot compose the config with {' '.join(overrides)}: {text}") from None
    cfg = OmegaConf.masked_copy(full, [k for k in full if k != "hydra"])
    OmegaConf.set_struct(cfg, True)
    return Composed(cfg, full.hydra, list(overrides))


def has_key(cfg: DictConfig, path: str) -> bool:
    """Whether a composed config has the key (the check `mtfw train` makes of an override)."""
    return missing_key(cfg, path) is None
