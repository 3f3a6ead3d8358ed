"""The final table a run prints: one row per task and split, one column per metric."""

from __future__ import annotations

import math
from pathlib import Path


def format_results(summary: dict, tasks: list[str], run_dir: Path) -> str:
    metrics: list[str] = []
    for key in summary:
        parts = key.split("/")
        if len(parts) == 3 and parts[0] in ("val", "test") and parts[2] not in metrics:
            metrics.append(parts[2])
    w = max(14, *(len(t) + 2 for t in tasks))
    header = f"{'task':<{w}}{'split':<7}" + "".join(f"{m:>11}" for m in metrics)
    lines = [header, "-" * len(header)]
    for task in tasks:
        for split in ("val", "test"):
            cells = []
            for m in metrics:
                value = summary.get(f"{split}/{task}/{m}")
                cells.append(f"{'-' if value is None or math.isnan(value) else f'{value:.4f}':>11}")
            lines.append(f"{task:<{w}}{split:<7}" + "".join(cells))
    lines.append(
        f"best epoch {summary['best_epoch']} of {summary['epochs_trained']} "
        f"(selected on {summary['monitor']}), {summary['samples_per_second']:.0f} train samples/s"
    )
    lines.append(f"run directory: {run_dir}")
    return "\n".join(lines)
