"""Which fields each expert of a gated encoder responds to, beside each task's utilisation of
the experts, so a reader follows field -> expert -> task.

An expert's response to a field in a row is gradient x input (Shrikumar et al., 2016; Ancona et
al., ICLR 2018) of each of the expert's output units with respect to the embedded input, summed
over the field's columns, its absolute value summed over the units (so that units of opposite
sign do not cancel). The table holds, per expert, the mean over rows, divided by the sum over
every field (each expert's row sums to 1). Encoders say which experts read the embedded fields
(``Encoder.field_experts``) and which experts each task's gate weighs (``Encoder.gate_experts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mtfw.data.batch import Split
from mtfw.explain.fields import Field
from mtfw.trainer.evaluate import eval_mode


@dataclass
class ExpertTable:
    """``response`` ``[E, F_all]`` (each row sums to 1 over every field of the model, in layout
    order) of the experts ``experts``, shown for ``fields``; ``utilisation``: per task, its
    gate's mean weight on each expert it weighs."""

    experts: list[str]
    fields: list[Field]
    response: Tensor
    utilisation: dict[str, dict[str, float]]


def expert_response(
    model: nn.Module, split: Split, fields: list[Field], batch_size: int
) -> tuple[list[str], Tensor] | None:
    """(expert names, ``[E, F]`` normalised mean |gradient x input|), or None for an encoder
    without experts. Per field one forward-mode derivative along the field's own input (the
    tangent is ``x`` on the field's columns, 0 elsewhere) gives every unit's gradient x input
    summed over the field's columns at once: one pass per field, not one per output unit."""
    encoder, names, total = model.encoder, None, None
    with eval_mode(model), torch.no_grad():
        for batch in split.batches(batch_size):
            x = model.inputs(batch.inputs, model.items)
            found = encoder.field_experts(x)
            if found is None:
                return None
            names = found[0]
            part = torch.zeros(len(names), len(fields), dtype=torch.float64)
            for i, field in enumerate(fields):
                tangent = torch.zeros_like(x)
                tangent[..., field.columns] = x[..., field.columns]
                _, change = torch.func.jvp(lambda z: encoder.field_experts(z)[1], (x,), (tangent,))
                part[:, i] = change.abs().sum(-1).sum(0).double().cpu()  # |.| per unit, summed
            total = part if total is None else total + part
    if names is None:
        return None
    return names, total / total.sum(1, keepdim=True).clamp(min=1e-30)


def utilisation(model: nn.Module, split: Split, batch_size: int) -> dict[str, dict[str, float]]:
    """Per task: its gate's mean weight on each expert (by name) over ``split``."""
    gates = model.gate_utilisation(split, batch_size)  # gate/<task>/<index>
    out: dict[str, dict[str, float]] = {}
    for key, value in gates.items():
        _, task, index = key.split("/")
        names = model.encoder.gate_experts(task)
        out.setdefault(task, {})[names[int(index)] if names else index] = value
    return out


def expert_table(
    model: nn.Module, split: Split, fields: list[Field], selected: list[Field], batch_size: int
) -> ExpertTable | None:
    """The expert x field table of a gated encoder (normalised over every field of the model,
    ``fields``; the ``selected`` ones shown); None for other encoders."""
    found = expert_response(model, split, fields, batch_size)
    if found is None:
        return None
    names, response = found
    return ExpertTable(names, selected, response, utilisation(model, split, batch_size))
