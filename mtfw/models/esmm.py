"""ESMM: Entire Space Multi-task Model (Ma et al., SIGIR 2018).

Conversion is modelled over the entire impression space: pCTCVR = pCTR x pCVR. The CTR task
trains on every impression; the CVR tower has no loss of its own and learns only through the
CTCVR loss (click and conversion), which removes the sample-selection bias of training CVR on
clicks alone. Any registered encoder can be the shared part (``shared``).

Tasks: ``ctr`` (e.g. visit) and ``ctcvr`` (conversion over all impressions) are trained; an
optional ``cvr`` task reports pCVR itself (set ``train: false`` on it: ESMM gives CVR no direct
loss), e.g. evaluated over clicks only. The CVR tower is the ``ctcvr`` task's head.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtfw import registry
from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import ConfigError, register


def logit_of_product(a: Tensor, b: Tensor) -> Tensor:
    """logit(sigmoid(a) * sigmoid(b)), computed in log space (stable for extreme logits)."""
    log_p = F.logsigmoid(a) + F.logsigmoid(b)
    return log_p - torch.log(-torch.expm1(log_p).clamp(max=-1e-30))


@register("encoder", "esmm")
class ESMM(Encoder):
    """Entire-space model: pCTCVR = pCTR x pCVR over all impressions, on any shared encoder."""

    requires = frozenset({"columns"})  # a funnel of label columns of one flat table

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        ctr: str = "visit",
        ctcvr: str = "conversion",
        cvr: str | None = None,
        shared: dict | str | None = None,
    ):
        super().__init__(in_dim, task_names, layout)
        expected = {ctr, ctcvr} | ({cvr} if cvr else set())
        if set(task_names) != expected:
            raise ConfigError(
                f"esmm: the tasks must be ctr={ctr}, ctcvr={ctcvr}"
                f"{f', cvr={cvr}' if cvr else ''} (set encoder.ctr/ctcvr/cvr); got {task_names}"
            )
        self.ctr, self.ctcvr, self.cvr = ctr, ctcvr, cvr
        self.inner = registry.build(
            "encoder", shared or "shared_bottom", where="encoder.shared", in_dim=in_dim,
            task_names=[ctr, ctcvr], layout=layout,
        )  # fmt: skip
        self.out_dim = self.inner.out_dim

    def borrowed_heads(self) -> set[str]:
        return {self.cvr} if self.cvr else set()

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.inner.shared_parameters()

    def field_experts(self, x: Tensor) -> tuple[list[str], Tensor] | None:
        return self.inner.field_experts(x)

    def gate_experts(self, task: str) -> list[str]:
        return self.inner.gate_experts(task)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        reps = self.inner(x)
        self.shared_output, self.last_gates = self.inner.shared_output, self.inner.last_gates
        return reps

    def combine(self, raw: dict[str, Tensor]) -> dict[str, Tensor]:
        out = {
            self.ctr: raw[self.ctr],
            self.ctcvr: logit_of_product(raw[self.ctr], raw[self.ctcvr]),
        }
        if self.cvr:
            out[self.cvr] = raw[self.ctcvr]  # the CVR tower itself
        return out
