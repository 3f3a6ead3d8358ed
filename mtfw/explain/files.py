"""What ``mtfw explain`` writes: ``importance.csv``/``.md``, ``heatmap.png`` and, for gated
encoders, ``experts.csv``/``.md``, in a directory of its own that no earlier explain holds."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from mtfw.explain.experts import ExpertTable
from mtfw.explain.permutation import Importance
from mtfw.explain.tables import experts_frame, experts_markdown, importance_markdown

COLUMNS = ["task", "field", "method", "value", "std", "metric"]


def fresh_directory(path: Path) -> Path:
    """``path`` when it does not exist or is empty; else the first free ``<path>-2``, ``-3``..."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return path
    number = 2
    while path.with_name(f"{path.name}-{number}").exists():
        number += 1
    return path.with_name(f"{path.name}-{number}")


def heatmap(frame: pd.DataFrame, path: Path) -> None:
    """Task x field, one panel per method; each task's row divided by its largest |value|, so
    every task spans the same colour range whatever its metric's units."""
    methods = list(dict.fromkeys(frame["method"]))
    fields = list(dict.fromkeys(frame["field"]))
    tasks = list(dict.fromkeys(frame["task"]))
    width = min(max(6.0, 0.32 * len(fields) + 3), 40.0)
    height = 1.2 + 1.1 * len(tasks) * len(methods)
    fig, axes = plt.subplots(
        len(methods), 1, figsize=(width, height), squeeze=False, layout="constrained"
    )
    for ax, method in zip(axes[:, 0], methods, strict=True):
        part = frame[frame["method"] == method]
        table = part.pivot(index="task", columns="field", values="value").loc[tasks, fields]
        scale = table.abs().max(axis=1).where(lambda s: s > 0, 1.0)
        image = ax.imshow((table.T / scale).T.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1,
                          aspect="auto")  # fmt: skip
        ax.set_title(f"{method} (each task divided by its largest |value|)")
        ax.set_yticks(range(len(tasks)), tasks)
        ax.set_xticks(range(len(fields)), fields, rotation=60, ha="right", fontsize=8)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(
    out: Path, found: list[Importance], header: str, experts: ExpertTable | None
) -> list[Path]:
    """Write every file into ``out`` (created); the paths written."""
    out.mkdir(parents=True)
    frame = pd.DataFrame([vars(i) for i in found], columns=COLUMNS)
    written = [out / "importance.csv", out / "importance.md", out / "heatmap.png"]
    frame.to_csv(written[0], index=False)
    written[1].write_text(importance_markdown(frame, header))
    heatmap(frame, written[2])
    if experts is not None:
        written += [out / "experts.csv", out / "experts.md"]
        experts_frame(experts).to_csv(written[3], index=False)
        written[4].write_text(experts_markdown(experts))
    return written
