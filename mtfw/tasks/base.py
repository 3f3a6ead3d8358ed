"""A task: what it requires of the data, what it needs prepared, its head, loss and evaluation
(DESIGN §4).

The contract every task type follows, flat-table and interaction tasks alike:

- ``requires``: capabilities the dataset must provide (checked before any data loads);
- ``needs()``: what preparing the data must produce for it (label columns, negatives, windows);
- ``head(context)``: its head, built from the encoder's output size and the data's context;
- ``fit_labels(splits)``: label checks on every split, and train statistics (regression scale);
- ``loss(output, batch)``: the mean loss over the batch's samples that carry its label;
- ``collect(output, batch)`` per evaluation batch, then ``summarise(parts, data)`` into metrics.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.data.needs import USER_GROUPS, DataNeeds
from mtfw.data.prepared import DataContext
from mtfw.errors import ConfigError
from mtfw.metrics.base import needs_groups
from mtfw.metrics.exact import exact_mean
from mtfw.models.heads import Head, HeadContext, TowerHead
from mtfw.models.label_scale import LabelScale
from mtfw.registry import get, names
from mtfw.settings import closest
from mtfw.value_types import check_range


class Task:
    """Base of the ``task`` registry kind: a label column of a flat table by default.
    Subclasses define ``pointwise_loss`` and ``predict``."""

    default_metrics: tuple[str, ...] = ()
    requires: ClassVar[frozenset[str]] = frozenset({"columns"})
    # What the head outputs per evaluated row: "rows" (one prediction per sample or pair) or
    # "item_scores" (every catalogue item scored, what a classical recommender also gives).
    output: ClassVar[str] = "rows"
    # The scale the head's outputs are in, when it is not the label's own (a regression label
    # standardised on train, a count's log-rate shift): fitted by ``fit_labels``, saved with the
    # head's weights. None: outputs are read as they are.
    scale: LabelScale | None = None

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
        # metrics over the samples of each user (gauc): the data must declare its user id
        self.grouped = [m for m in self.metrics if needs_groups(m)]
        check_range(f"task.{name}.weight", self.weight, low=0)
        check_range(f"task.{name}.dropout", dropout, low=0, high=1, high_open=True)
        for width in self.tower:
            check_range(f"task.{name}.tower", width, low=1)

    def needs(self) -> DataNeeds:
        return DataNeeds(labels={self.label: self.mask_missing}, user_groups=bool(self.grouped))

    def eval_keys(self) -> list[str]:
        """The metric names evaluation reports for this task (``<split>/<task>/<name>``)."""
        return ["loss", *self.metrics]

    def primary_metric(self) -> str:
        """The metric a sweep's ``{metric}`` placeholder means: the first configured one."""
        return (self.metrics or ["loss"])[0]

    def head(self, context: HeadContext) -> Head:
        """The tower: an MLP then one output unit."""
        return TowerHead(context.in_dim, self.tower, self.activation, self.dropout)

    def check_labels(self, train_labels: dict[str, Tensor]) -> None:
        """Raise a ConfigError when the prepared label values do not suit this task type."""

    def fit_labels(self, splits: dict[str, Batch]) -> None:
        """Check the labels of every split that holds them (``train`` always) and fit what the
        task learns of its label on ``train`` (a regression label's mean and std)."""

    def target(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        """The batch's targets for this task and the mask of samples that carry them."""
        return batch.labels[self.label], batch.masks.get(self.label)

    def labelled_targets(self, batch: Batch) -> Tensor:
        """The targets of the samples in ``batch`` that carry this task's label."""
        target, mask = self.target(batch)
        return target if mask is None else target[mask]

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def predict(self, output: Tensor) -> Tensor:
        raise NotImplementedError

    def loss(self, output: Tensor, batch: Batch) -> Tensor:
        """Mean loss over the samples that carry this task's label (PLE, Eq. 9)."""
        target, mask = self.target(batch)
        per_sample = self.pointwise_loss(output, target)
        if mask is None:
            return per_sample.mean()
        return (per_sample * mask).sum() / mask.sum().clamp(min=1)

    def collect(self, output: Tensor, batch: Batch) -> dict[str, Tensor]:
        """What one evaluation batch contributes (concatenated over batches for ``summarise``)."""
        target, mask = self.target(batch)
        parts = {"output": output.float(), "target": target}
        if self.grouped:
            parts["groups"] = batch.labels[USER_GROUPS]
        return parts if mask is None else {**parts, "mask": mask}

    def summarise(self, parts: dict[str, Tensor], data: DataContext) -> dict[str, float]:
        return self.evaluate(parts["output"], parts["target"], parts.get("mask"),
                             parts.get("groups"))  # fmt: skip

    def evaluate(
        self, output: Tensor, target: Tensor, mask: Tensor | None = None,
        groups: Tensor | None = None,
    ) -> dict:  # fmt: skip
        """``{metric: value}`` on the labelled samples, the task loss included as ``loss``;
        ``groups``: each sample's user, for the grouped metrics (gauc)."""
        if mask is not None:
            output, target = output[mask], target[mask]
            groups = None if groups is None else groups[mask]
        pred = self.predict(output)
        values = {"loss": exact_mean(self.pointwise_loss(output, target))}
        for m in self.metrics:
            fn = get("metric", m)
            values[m] = fn(pred, target, groups) if m in self.grouped else fn(pred, target)
        return values
