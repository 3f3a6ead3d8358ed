"""Config values against the types their constructor or settings class declares.

``lr: float`` given ``fast``, ``n_experts: int`` given ``2.5``, ``tower: list[int]`` given
``[a]``: each is refused before anything is built, naming the key, the value and the type
expected, instead of failing deep inside torch. A constructor declares a range beside the type
(``n_experts: Count``, ``dropout: Fraction``: ``Annotated[int, Range(low=1)]``), checked as early.
Annotations this module does not know (a tensor, a layout object) are left alone.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, is_dataclass
from typing import Annotated, Any

from mtfw.errors import ConfigError

NAMES = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}


@dataclass(frozen=True)
class Range:
    """The values a parameter allows, declared beside its type: ``Annotated[int, Range(low=1)]``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False


Count = Annotated[int, Range(low=1)]  # a size, a number of experts, layers or heads
Fraction = Annotated[float, Range(low=0, high=1, high_open=True)]  # a dropout rate
Share = Annotated[float, Range(low=0, high=1)]  # a weight of a convex combination
NonNegative = Annotated[float, Range(low=0)]  # a loss weight
Positive = Annotated[float, Range(low=0, low_open=True)]  # a learning rate
Steps = Annotated[int, Range(low=0)]  # a number of updates, 0 allowed


def declared_types(obj: Callable) -> dict[str, Any]:
    """The resolved annotations of a function, a dataclass's fields or a class's ``__init__``."""
    target = obj.__init__ if isinstance(obj, type) and not is_dataclass(obj) else obj
    try:
        return typing.get_type_hints(target, include_extras=True)  # keeps Annotated ranges
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
    if origin is Annotated:
        return describe(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
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
    if origin is Annotated:
        return matches(value, args[0])
    if origin is typing.Literal:  # a choice among names: variant: Literal["vae", "dae"]
        return value in args
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


def check_value_range(where: str, value: Any, annotation: Any) -> None:
    """Refuse ``value`` (of the declared type) outside a :class:`Range` its annotation declares;
    each element of a list (``hidden: list[Count]``) is checked."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        for bound in args[1:]:
            if isinstance(bound, Range) and number:
                check_range(where, value, bound.low, bound.high, bound.low_open, bound.high_open)
        check_value_range(where, value, args[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            check_value_range(where, value, arg)
    elif origin in (list, tuple) and args and isinstance(value, (list, tuple)):
        for item in value:
            check_value_range(where, item, args[0])


def check_ranges(values: dict[str, Any], declared: dict[str, Any], where: str) -> None:
    """Raise a ConfigError for the first value outside the range its annotation declares."""
    for key, value in values.items():
        if key in declared:
            check_value_range(f"{where}.{key}", value, declared[key])
