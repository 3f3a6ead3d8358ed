"""Python values <-> Hydra override text, and Optuna-safe encodings of categorical choices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf

from mtfw.errors import ConfigError

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./\-]*$")
_RESERVED = {"true", "false", "null", "inf", "nan"}
_parser: OverridesParser | None = None


def override_parser() -> OverridesParser:
    global _parser
    if _parser is None:
        _parser = OverridesParser.create()
    return _parser


def parse_override(text: str, where: str):
    """Parse one ``key=value`` override, or raise a ConfigError naming ``where`` it came from."""
    try:
        return override_parser().parse_override(text)
    except HydraException as err:  # a grammar error, or a sweep function's bad arguments
        reason = str(err).strip().splitlines()[0]
        raise ConfigError(f"{where}: cannot parse '{text}': {reason}") from None


def format_value(value: Any) -> str:
    """The override text Hydra parses back to ``value`` (``[64,32]``, ``null``, ``'a b'``)."""
    if isinstance(value, (DictConfig, ListConfig)):
        value = OmegaConf.to_container(value, resolve=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{format_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as a Hydra override value")


def encode_choice(value: Any) -> bool | int | float | str | None:
    """Optuna stores only None/bool/int/float/str: lists and dicts travel as their text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return format_value(value)


def same_value(a: Any, b: Any) -> bool:
    """Equality as a user means it in a config (``8`` matches ``'8'``; lists by content)."""
    return format_value(a) == format_value(b) or str(a) == str(b)
