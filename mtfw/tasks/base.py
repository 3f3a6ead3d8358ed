"""A task: its label column, head, loss, metrics and the user's weight (DESIGN §4)."""

from __future__ import annotations

from torch import Tensor, nn

from mtfw.models.mlp import mlp
from mtfw.registry import ConfigError, closest, get, names


class Task:
    """Base of the ``task`` registry kind. Subclasses define ``pointwise_loss`` and ``predict``."""

    default_metrics: tuple[str, ...] = ()

    def __init__(
        self,
        name: str,
        label: str,
        weight: float = 1.0,
        tower: list[int] = (32,),
        activation: str = "relu",
        dropout: float = 0.0,
        metrics: list[str] | None = None,
        mask_missing: bool = False,
        train: bool = True,
        output_of: str | None = None,
    ):
        self.name, self.label, self.weight = name, label, float(weight)
        self.tower, self.activation, self.dropout = list(tower), activation, dropout
        self.metrics = list(metrics) if metrics is not None else list(self.default_metrics)
        self.mask_missing = mask_missing
        self.train = train  # False: evaluated only, contributes no loss (e.g. ESMM's pCVR)
        # Evaluate another task's output on this task's label and mask (e.g. the conversion
        # prediction over visitors only); such a task has no head and is never trained.
        self.output_of = output_of
        if output_of is not None:
            self.train = False
        known = names("metric")
        for m in self.metrics:
            if m not in known:
                raise ConfigError(
                    f"task.{name}.metrics: unknown metric '{m}'; metrics: {', '.join(known)}."
                    f"{closest(m, known)}"
                )
        if self.weight < 0:
            raise ConfigError(f"task.{name}.weight must be >= 0, got {weight}")

    def eval_keys(self) -> list[str]:
        """The metric names evaluation reports for this task (``<split>/<task>/<name>``)."""
        return ["loss", *self.metrics]

    def primary_metric(self) -> str:
        """The metric a sweep's ``{metric}`` placeholder means: the first configured one."""
        return (self.metrics or ["loss"])[0]

    def head(self, in_dim: int) -> nn.Module:
        """The tower: an MLP then one output unit."""
        body = mlp(in_dim, self.tower, self.activation, self.dropout)
        return nn.Sequential(body, nn.Linear(self.tower[-1] if self.tower else in_dim, 1))

    def check_labels(self, target: Tensor) -> None:
        """Raise a ConfigError when the label values do not suit this task type."""

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def predict(self, output: Tensor) -> Tensor:
        raise NotImplementedError

    def loss(self, output: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mean loss over the samples that carry this task's label (PLE, Eq. 9)."""
        per_sample = self.pointwise_loss(output, target)
        if mask is None:
            return per_sample.mean()
        return (per_sample * mask).sum() / mask.sum().clamp(min=1)

    def evaluate(self, output: Tensor, target: Tensor, mask: Tensor | None = None) -> dict:
        """``{metric: value}`` on the labelled samples, the task loss included as ``loss``."""
        if mask is not None:
            output, target = output[mask], target[mask]
        pred = self.predict(output)
        values = {"loss": float(self.pointwise_loss(output, target).mean())}
        for m in self.metrics:
            values[m] = get("metric", m)(pred, target)
        return values
