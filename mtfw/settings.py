"""Typed settings from a config node: one place for "unknown key, did you mean ...".

Every settings dataclass of mtfw (the trainer, a data split, a logger, a sweep) is read through
:func:`settings_from`, so a misspelt key fails the same way everywhere: the node's location, the
key, every allowed key and the closest match.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

from mtfw.errors import ConfigError
from mtfw.value_types import check_types, declared_types

T = TypeVar("T")


def closest(word: str, choices: list[str]) -> str:
    """' Did you mean X?' for the closest choice, or '' when nothing is close."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def plain(node: Mapping | DictConfig | None) -> dict[str, Any]:
    """A config node (resolved) as a plain dict; None gives an empty dict."""
    if node is None:
        return {}
    if isinstance(node, DictConfig):
        return dict(OmegaConf.to_container(node, resolve=True))  # type: ignore[arg-type]
    return dict(node)


def check_keys(values: Mapping, allowed: list[str], where: str, what: str = "key") -> None:
    """Raise a ConfigError naming the first key of ``values`` that is not in ``allowed``."""
    for key in values:
        if key not in allowed:
            raise ConfigError(
                f"{where} has no {what} '{key}'; {what}s: {', '.join(allowed)}."
                f"{closest(str(key), allowed)}"
            )


def settings_from(
    cls: type[T], node: Mapping | DictConfig | None, where: str, what: str = "key", **fixed: Any
) -> T:
    """``cls(**node, **fixed)`` after checking every key of ``node`` is a field of ``cls``.

    ``fixed`` are fields the caller sets itself (e.g. a sweep's name), never read from the node."""
    values = plain(node)
    allowed = [f.name for f in fields(cls) if f.name not in fixed]  # type: ignore[arg-type]
    check_keys(values, allowed, where, what)
    check_types(values, declared_types(cls), where)
    return cls(**values, **fixed)
