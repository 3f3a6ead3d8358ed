"""Config values against the types their constructor or settings class declares.

``lr: float`` given ``fast``, ``n_experts: int`` given ``2.5``, ``tower: list[int]`` given
``[a]``: each is refused before anything is built, naming the key, the value and the type
expected, instead of failing deep inside torch. Annotations this module does not know (a tensor,
a layout object) are left alone.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import is_dataclass
from typing import Any

from mtfw.errors import ConfigError

NAMES = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}


def declared_types(obj: Callable) -> dict[str, Any]:
    """The resolved annotations of a function, a dataclass's fields or a class's ``__init__``."""
    target = obj.__init__ if isinstance(obj, type) and not is_dataclass(obj) else obj
    try:
        return typing.get_type_hints(target)
    except Exception:  # an annotation that cannot be resolved here: no type checks for it
        return {}


def check_range(
    where: str, value: float, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False,
) -> None:  # fmt: skip
    """Refuse ``value`` outside ``[low, high]`` (``(`` / ``)`` where open), naming the range."""
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        left = "(-inf" if low is None else f"{'(' if low_open else '['}{low:g}"
        right = "inf)" if high is None else f"{high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{where}={value!r} is out of range: allowed {left}, {right}")


def describe(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe(a) for a in args)
    if origin in (list, tuple):
        return f"a list of {describe(args[0]).removeprefix('a ')}s" if args else "a list"
    return NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def matches(value: Any, annotation: Any) -> bool:
    """Whether ``value`` (as read from YAML) fits ``annotation``; unknown annotations fit."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, a) for a in args)
    if annotation is type(None):
        return value is None
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and all(matches(v, args[0]) for v in value)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    return True  # a type config files do not spell: not checked here


def check_types(values: dict[str, Any], declared: dict[str, Any], where: str) -> None:
    """Raise a ConfigError for the first value that does not fit its declared type."""
    for key, value in values.items():
        if key in declared and not matches(value, declared[key]):
            raise ConfigError(f"{where}.{key}={value!r}: expected {describe(declared[key])}")
