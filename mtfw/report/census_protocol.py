"""The MMoE paper's census tables (Ma et al., KDD 2018, §5.2, Tables 2 and 3): per group of tasks,
a row per model (single-task, shared-bottom, OMoE, MMoE) and per task the mean test AUC over the
runs and the best run's (the run best on validation, as ``mtfw report``'s ``best``).

Runs: ``mtfw train -m experiment=census_group1,census_group2
encoder=single_task,shared_bottom,omoe,mmoe seed=0,1,2,3,4``; a group is an experiment file (or,
for runs made without one, the set of tasks).
"""

from __future__ import annotations

import pandas as pd

from mtfw.metrics import AGGREGATES
from mtfw.report.protocol_cells import (
    MODEL_NAMES,
    best_value,
    cell,
    markdown_table,
    mean_std_n,
    need_columns,
    ordered_models,
)

METRIC = "auc"


def task_keys(runs: pd.DataFrame) -> list[str]:
    """``test/<task>/auc`` of the tasks these runs have (a value in some run), in table order."""
    keys = [c for c in runs.columns if c.startswith("test/") and c.endswith(f"/{METRIC}")]
    keys = [k for k in keys if k.split("/")[1] not in AGGREGATES]
    return [k for k in keys if pd.to_numeric(runs[k], errors="coerce").notna().any()]


def group_label(runs: pd.DataFrame) -> pd.Series:
    experiment = runs["experiment"] if "experiment" in runs else pd.Series(None, index=runs.index)
    tasks = runs.apply(lambda r: ", ".join(k.split("/")[1] for k in task_keys(r.to_frame().T)),
                       axis=1)  # fmt: skip
    return experiment.where(experiment.notna(), tasks).astype(str)


def census_groups(table: pd.DataFrame) -> str:
    need_columns(table, ["encoder.name", "monitor_value"], "census_groups")
    lines = []
    labels = group_label(table)
    for label in dict.fromkeys(labels):
        runs = table[labels == label]
        keys = task_keys(runs)
        tasks = [k.split("/")[1] for k in keys]
        header = ["model", "runs"]
        for task in tasks:
            header += [f"{task} AUC mean", f"{task} AUC best"]
        rows = []
        for model in ordered_models(list(dict.fromkeys(runs["encoder.name"].astype(str)))):
            mine = runs[runs["encoder.name"].astype(str) == model]
            row = [MODEL_NAMES.get(model, model), str(len(mine))]
            for key in keys:
                mean, std, _ = mean_std_n(mine[key])
                row += [cell(mean, std), cell(best_value(mine, key))]
            rows.append(row)
        lines += [f"### {label}: {', '.join(tasks)}", ""]
        lines += markdown_table(header, rows)
        lines.append("")
    lines.append(
        "Test AUC: mean ± sample std over each row's runs (seeds); best: the test AUC of the run "
        "with the best validation value of its monitor (trainer.monitor), as the paper reports "
        "mean and best over its runs."
    )
    return "\n".join(lines) + "\n"
