"""The final table a run prints: per task, one row per split, one column per metric.

Per-category values (``auc_Action``) stay in summary.json; the table shows their means."""

from __future__ import annotations

import math
from pathlib import Path

from mtfw.errors import NothingMeasured
from mtfw.metrics import is_per_category


def task_metrics(summary: dict, task: str) -> list[str]:
    found: list[str] = []
    for key in summary:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] not in ("val", "test") or parts[1] != task:
            continue
        if parts[2] not in found and not is_per_category(parts[2]):
            found.append(parts[2])
    return found


UNDEFINED = (
    "undefined on that split, null in summary.json: the split or the model gives the metric "
    "nothing to measure, e.g. AUC when every label of a task has one value, ild_embedding for a "
    "model without item vectors"
)


def undefined_metrics(summary: dict) -> list[str]:
    """The val/test metric keys whose value is NaN (or already null)."""

    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    return [k for k, v in summary.items() if k.startswith(("val/", "test/")) and missing(v)]


def check_measured(summary: dict) -> None:
    """A run whose every val/test metric is undefined measured nothing: it fails, naming why,
    rather than saying "completed" over a table of nulls."""
    measured = [k for k in summary if k.startswith(("val/", "test/"))]
    if measured and len(undefined_metrics(summary)) == len(measured):
        raise NothingMeasured(
            f"every val/test metric of the run is undefined ({', '.join(measured[:6])}"
            f"{', ...' if len(measured) > 6 else ''}): no split gave the tasks anything to measure "
            "(no labelled sample, or one label value only). Check the labels and data.split"
        )


def format_results(summary: dict, tasks: list[str], run_dir: Path) -> str:
    w = max(14, *(len(t) + 2 for t in tasks))
    lines = []
    for task in tasks:
        metrics = task_metrics(summary, task)
        widths = [max(11, len(m) + 2) for m in metrics]
        header = "".join(f"{m:>{n}}" for m, n in zip(metrics, widths, strict=True))
        lines.append(f"{task:<{w}}{header}")
        for split in ("val", "test"):
            cells = []
            for m, n in zip(metrics, widths, strict=True):
                value = summary.get(f"{split}/{task}/{m}")
                cells.append(
                    f"{'-' if value is None or math.isnan(value) else f'{value:.4f}':>{n}}"
                )
            lines.append(f"  {split:<{w - 2}}" + "".join(cells))
    undefined = undefined_metrics(summary)
    if undefined:
        lines.append(f"-: {UNDEFINED} ({', '.join(undefined)})")
    lines.append(
        f"best epoch {summary['best_epoch']} of {summary['epochs_trained']} "
        f"(selected on {summary['monitor']}), {summary['samples_per_second']:.0f} train samples/s"
    )
    lines.append(f"run directory: {run_dir}")
    return "\n".join(lines)
