"""The ``logger`` config node (``conf/logger/``), checked key by key before any data is loaded.

``logger=wandb`` and ``logger=[wandb]`` compose to the same node. Which wandb mode a run uses is
decided here, so that the rule is in one place: ``logger.mode`` when set (an explicit
``disabled`` wins over ``$WANDB_MODE``), else ``$WANDB_MODE``, else online when an API key is
available and offline when not. Online without a key falls back to offline: a run never waits for
a login prompt or a network.
"""

from __future__ import annotations

import netrc
import os
from dataclasses import dataclass, field
from urllib.parse import urlparse

from omegaconf import DictConfig

from mtfw.errors import ConfigError
from mtfw.settings import closest, plain, settings_from

LOGGERS = ("none", "wandb")
MODES = ("online", "offline", "disabled")
LEGACY_MODES = {"dryrun": "offline", "run": "online"}  # older spellings wandb still accepts


@dataclass(frozen=True)
class WandbSettings:
    project: str = "mtfw"
    entity: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    mode: str | None = None
    run_name: str | None = None
    init_timeout: float = 30.0


def logger_settings(node: DictConfig | dict | None) -> WandbSettings | None:
    """The wandb settings of a ``logger`` node, or None for ``logger=none`` (or no node)."""
    if node is None:
        return None
    values = plain(node)
    name = values.pop("name", "none")
    if name not in LOGGERS:
        raise ConfigError(
            f"logger.name='{name}' is not a logger; choose logger=none or logger=wandb."
            f"{closest(str(name), list(LOGGERS))}"
        )
    if name == "none":
        return None
    settings = settings_from(WandbSettings, values, "logger=wandb", "setting")
    if settings.mode is not None and settings.mode not in MODES:
        raise ConfigError(
            f"logger.mode='{settings.mode}': use online, offline or disabled "
            "(or null: $WANDB_MODE, else online with an API key, offline without)"
        )
    if not isinstance(settings.tags, list) or not all(isinstance(t, str) for t in settings.tags):
        raise ConfigError(f"logger.tags must be a list of strings, not {settings.tags!r}")
    if not settings.project:
        raise ConfigError("logger.project must name a wandb project")
    return settings


def has_api_key(env: dict | None = None) -> bool:
    """Whether wandb could log in without a prompt: $WANDB_API_KEY or a ~/.netrc entry."""
    env = os.environ if env is None else env
    if env.get("WANDB_API_KEY"):
        return True
    host = urlparse(env.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or "api.wandb.ai"
    try:
        return netrc.netrc(env.get("NETRC")).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def resolve_mode(configured: str | None, env: dict | None = None) -> tuple[str, str | None]:
    """(mode, a note to log when the mode is not the one asked for)."""
    env = os.environ if env is None else env
    if configured is not None:
        mode, source = configured, "logger.mode"
    elif env.get("WANDB_MODE"):
        raw = env["WANDB_MODE"]
        mode, source = LEGACY_MODES.get(raw, raw), "$WANDB_MODE"
        if mode not in MODES:
            raise ConfigError(f"WANDB_MODE={raw}: use online, offline or disabled")
    else:
        mode, source = ("online" if has_api_key(env) else "offline"), None
    if mode == "online" and not has_api_key(env):
        return "offline", (
            f"wandb: {source} asks for online but no API key is set (WANDB_API_KEY or "
            "~/.netrc); logging offline instead (upload later with `wandb sync`)"
        )
    return mode, None
