"""Every registered weighting in every mode it offers: the cases that the property, training and
distributed tests run, driven by the registry (a new method is tested without being listed)."""

from __future__ import annotations

from mtfw import registry
from mtfw.weighting import GradientWeighting


def modes(name: str) -> list[str | None]:
    """``[None]`` for a loss-space method; the gradient modes a gradient-space method offers."""
    cls = registry.get("weighting", name)
    if not issubclass(cls, GradientWeighting):
        return [None]
    return ["parameters", "representation"] if cls.representation_mode else ["parameters"]


CASES = [(name, mode) for name in registry.names("weighting") for mode in modes(name)]
