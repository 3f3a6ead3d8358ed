"""The input fields of a model, as its input module lays them out: each field's name and its
columns in the embedded input (the tensor the encoder reads)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from mtfw.errors import ConfigError
from mtfw.settings import closest


@dataclass(frozen=True)
class Field:
    """One input field: ``name`` (its column; ``history`` for the user-history vector), its
    position in the input layout and its columns ``columns`` of the embedded input's last
    dimension (``dim`` columns for an embedded field, one for a numeric feature)."""

    name: str
    position: int
    columns: slice


def input_fields(model: nn.Module) -> list[Field]:
    """Every input field of a model built by mtfw, in the order of its input layout."""
    slices = model.inputs.field_slices()
    return [Field(name, i, columns) for i, (name, columns) in enumerate(slices)]


def select_fields(fields: list[Field], wanted: list[str] | None) -> list[Field]:
    """The fields named in ``wanted`` (all when None), in layout order; a ConfigError naming
    every field there is for a name that is not one."""
    if wanted is None:
        return fields
    names = [f.name for f in fields]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ConfigError(
            f"mtfw explain: fields={','.join(wanted)}: unknown field(s) "
            f"{', '.join(repr(u) for u in unknown)}.{closest(unknown[0], names)} The model's "
            f"input fields: {', '.join(names)}"
        )
    return [f for f in fields if f.name in wanted]
