"""Report figures as PNG (Agg canvas, no display needed).

``validation_curves.png``: per task, the validation gain metric by epoch, mean over a row's seeds
(band: min to max). ``tradeoff.png``: test metrics of the first two tasks, one point per run, and
the Pareto front across all runs. ``expert_utilisation.png``: mean gate weight per task and expert
(``gate/<task>/<expert>`` of summary.json) for every row with a gated encoder.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mtfw.report.build import Report
from mtfw.report.collect import history
from mtfw.report.direction import better


def validation_curves(report: Report, path: Path) -> Path | None:
    tasks = list(report.gain_metrics.items())
    if not tasks:
        return None
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(5 * len(tasks), 3.8), squeeze=False, layout="constrained"
    )
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (task, key) in zip(axes[0], tasks, strict=True):
        val_key = "val/" + key.split("/", 1)[1]
        for i, row in enumerate(report.rows):  # one colour per row in every panel
            curves = [c for d in row.group.runs["run_dir"] if (c := curve(d, val_key)) is not None]
            if not curves:
                continue
            frame = pd.concat(curves, axis=1)
            colour = palette[i % len(palette)]
            ax.plot(frame.index, frame.mean(axis=1), marker=".", label=row.group.label,
                    color=colour)  # fmt: skip
            ax.fill_between(frame.index, frame.min(axis=1), frame.max(axis=1), alpha=0.15,
                            color=colour)  # fmt: skip
        ax.set(title=task, xlabel="epoch", ylabel=val_key)
    fig.legend(*axes[0][0].get_legend_handles_labels(), fontsize="small", loc="outside right")
    return _save(fig, path)


def curve(run_dir: str, key: str) -> pd.Series | None:
    """``key`` by epoch from a run's metrics.jsonl, or None when the run did not record it."""
    rows = [r for r in history(run_dir) if key in r and "epoch" in r]
    return pd.Series([r[key] for r in rows], index=[r["epoch"] for r in rows]) if rows else None


def pareto_front(points: np.ndarray, higher: tuple[bool, bool]) -> np.ndarray:
    """Rows of ``points`` (n x 2) that no other point beats in both coordinates, sorted by x."""
    signed = points * np.where(higher, 1.0, -1.0)
    keep = [
        i for i, p in enumerate(signed)
        if not any((q >= p).all() and (q > p).any() for q in signed)
    ]  # fmt: skip
    front = points[keep]
    return front[np.argsort(front[:, 0])]


def tradeoff(report: Report, path: Path) -> Path | None:
    keys = list(report.gain_metrics.values())[:2]
    if len(keys) < 2:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    points = []
    for row in report.rows:
        xy = row.group.runs[keys].apply(pd.to_numeric, errors="coerce").dropna().to_numpy()
        if len(xy):
            ax.scatter(xy[:, 0], xy[:, 1], label=row.group.label, alpha=0.8)
            points.append(xy)
    if not points:
        plt.close(fig)
        return None
    front = pareto_front(np.concatenate(points), (better(keys[0]), better(keys[1])))
    ax.plot(front[:, 0], front[:, 1], "k--", marker="o", mfc="none", label="Pareto front")
    arrows = ["(higher is better)" if better(k) else "(lower is better)" for k in keys]
    ax.set(xlabel=f"{keys[0]} {arrows[0]}", ylabel=f"{keys[1]} {arrows[1]}",
           title="trade-off between tasks, one point per run")  # fmt: skip
    ax.legend(fontsize="small")
    return _save(fig, path)


def gate_matrix(runs: pd.DataFrame) -> pd.DataFrame | None:
    """Tasks x experts, mean over the runs of the ``gate/<task>/<expert>`` keys."""
    keys = [c for c in runs.columns if c.startswith("gate/") and runs[c].notna().any()]
    if not keys:
        return None
    means = runs[keys].apply(pd.to_numeric, errors="coerce").mean()
    index = pd.MultiIndex.from_tuples([tuple(k.split("/")[1:3]) for k in keys])
    matrix = pd.Series(means.to_numpy(), index=index).unstack()
    return matrix[sorted(matrix.columns, key=lambda e: (len(e), e))]


def expert_utilisation(report: Report, path: Path) -> Path | None:
    matrices = [(r.group.label, gate_matrix(r.group.runs)) for r in report.rows]
    gated = [(label, m) for label, m in matrices if m is not None]
    if not gated:
        return None
    top = max(float(np.nanmax(m.to_numpy())) for _, m in gated)  # one colour scale for all
    fig, axes = plt.subplots(1, len(gated), figsize=(4.5 * len(gated), 3.2), squeeze=False)
    for ax, (label, matrix) in zip(axes[0], gated, strict=True):
        image = ax.imshow(matrix.to_numpy(), cmap="viridis", vmin=0, vmax=top, aspect="auto")
        ax.set(title=label, xlabel="expert", xticks=range(matrix.shape[1]),
               xticklabels=matrix.columns, yticks=range(matrix.shape[0]),
               yticklabels=matrix.index)  # fmt: skip
        fig.colorbar(image, ax=ax, label="mean gate weight")
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    if fig.get_layout_engine() is None:  # figures with an outside legend lay themselves out
        fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_plots(report: Report, directory: Path) -> list[Path]:
    """Every figure that applies to the report, into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    made = [
        validation_curves(report, directory / "validation_curves.png"),
        tradeoff(report, directory / "tradeoff.png"),
        expert_utilisation(report, directory / "expert_utilisation.png"),
    ]
    return [p for p in made if p is not None]
