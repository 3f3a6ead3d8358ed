"""The starter folder's YAML files, each opening with the command that runs it.

``data/<name>.yaml`` lists every column under its kind with the reason as a comment;
``task/<label>.yaml`` holds one task per label; ``experiment/<name>.yaml`` bundles them. Files
are written only when none of them exists yet: ``mtfw init`` never overwrites.
"""

from __future__ import annotations

import math
import shlex
import textwrap
from pathlib import Path

import yaml

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.starter.column_kinds import Guess
from mtfw.starter.label_tasks import LabelPlan
from mtfw.starter.starter_plan import StarterPlan

TOWER = [32]


def flow(value: object) -> str:
    """``value`` as one line of YAML, quoted where YAML would read it as something else
    (``yes`` is true to YAML 1.1, ``1. Yes`` is fine as it is)."""
    text = yaml.safe_dump([value], default_flow_style=True, sort_keys=False, width=1 << 20)
    return text.strip()[1:-1]


def commented(line: str, reason: str, width: int) -> str:
    return f"{line:<{width}}  # {reason}"


def column_list(key: str, guesses: list[Guess]) -> list[str]:
    if not guesses:
        return [f"{key}: []"]
    width = max(len(f"  - {flow(g.column)}") for g in guesses)
    return [f"{key}:", *(commented(f"  - {flow(g.column)}", g.reason, width) for g in guesses)]


def train_command(folder: str, plan: StarterPlan, labels: list[LabelPlan]) -> str:
    tasks = ",".join(p.name for p in labels)
    return f"mtfw train --config-dir {shlex.quote(folder)} data={plan.name} 'task=[{tasks}]'"


def data_yaml(plan: StarterPlan, folder: str) -> str:
    numeric = plan.of_kind("numeric")
    with_missing = [g.column for g in numeric if g.missing]
    indicator = "no numeric column has missing values"
    if with_missing:
        indicator = f"a 0/1 input <col>_missing for {', '.join(with_missing)}"
    lines = [
        f"# {train_command(folder, plan, plan.labels)}",
        f"# {plan.path.name} as `mtfw init` read it ({plan.rows:,} rows, {len(plan.columns)} "
        "columns): each column is",
        "# listed under the kind guessed for it, with the reason; move a line to change its kind.",
        "name: tabular",
        f"path: {flow(str(plan.path))}",
        *column_list("categorical", plan.of_kind("categorical")),
        *column_list("numeric", numeric),
        commented(f"log1p: {flow([g.column for g in numeric if g.log1p])}",
                  "numeric columns log1p-transformed (heavy-tailed)", 0),
        commented(f"coerce: {flow([g.column for g in numeric if g.coerce])}",
                  "numeric columns whose non-numbers are read as missing", 0),
        commented(f"missing_indicator: {flow(bool(with_missing))}", indicator, 0),
    ]  # fmt: skip
    stamp = plan.timestamp
    if stamp is not None:
        lines.append(commented(f"timestamp: {flow(stamp.column)}", stamp.reason, 0))
    lines += column_list("exclude", plan.excluded)
    width = max(len(f"  {flow(p.name)}: {flow(p.spec)}") for p in plan.labels)
    lines += ["labels:", *(commented(f"  {flow(p.name)}: {flow(p.spec)}", p.reason, width)
                           for p in plan.labels)]  # fmt: skip
    by = "random  # a timestamp allows by: time (the newest rows are test)" if stamp else "random"
    lines += ["split:", f"  by: {by}", "  val: 0.1", "  test: 0.1", "  seed: 0"]
    return "\n".join(lines) + "\n"


def comment(text: str) -> list[str]:
    return [f"# {line}" for line in textwrap.wrap(text, 98)]


def task_yaml(plan: StarterPlan, label: LabelPlan, folder: str) -> str:
    params = registry.parameters("task", label.task)
    about = f"The label {label.column} of {plan.path.name}: {label.reason}.{label.note}"
    if label.task == "regression" and len(plan.labels) > 1 and "standardize" not in params:
        about += (
            f" Its squared error is in squared label units (variance {label.variance:,.4g}):"
            " beside other tasks, set weight (e.g. 1/variance) or weighting=uncertainty."
        )
    lines = [
        f"# {train_command(folder, plan, [label])}",
        *comment(about),
        f"{flow(label.name)}:",
        f"  name: {label.task}",
        f"  label: {flow(label.name)}",
        "  weight: 1.0",
        f"  tower: {flow(TOWER)}",
    ]
    metrics = list(registry.get("task", label.task).default_metrics)
    if "metrics" in params and metrics:
        lines.append(f"  metrics: {flow(metrics)}")
    if label.missing:
        if "mask_missing" not in params:
            raise ConfigError(
                f"--label {label.column}: the {label.task} task type cannot leave out rows "
                "without a label (it has no mask_missing); fill them in first"
            )
        lines.append(f"  mask_missing: true  # {label.missing:,} rows without a label left out")
    return "\n".join(lines) + "\n"


def experiment_yaml(plan: StarterPlan, folder: str) -> str:
    tasks = ", ".join(f"{p.name} ({p.task})" for p in plan.labels)
    about = (f"{plan.path.name}: data/{plan.name}.yaml with the tasks {tasks}, on the default "
             "encoder, weighting, optimizer and trainer of mtfw's conf/train.yaml; set any of "
             "them here (encoder: under defaults, trainer.max_epochs: below).")  # fmt: skip
    return "\n".join([
        "# @package _global_",  # Hydra reads this header only on the first lines
        f"# mtfw train --config-dir {shlex.quote(folder)} experiment={plan.name}",
        *comment(about),
        "defaults:",
        f"  - override /data: {plan.name}",
        f"  - override /task: {flow([p.name for p in plan.labels])}",
        *trainer_budget(plan.rows),
    ]) + "\n"  # fmt: skip


def trainer_budget(rows: int) -> list[str]:
    """A batch size giving about 40 steps per epoch over the train share (a power of two in
    [64, 1024]) and epochs enough for early stopping (patience 3) to end the run, not the cap:
    conf/trainer's 10 epochs of 1,024 rows are a handful of steps on a small table."""
    batch = min(1024, max(64, 2 ** round(math.log2(max(rows * 0.8 / 40, 1)))))
    return [
        f"trainer:  # sized to {rows:,} rows: about {max(1, round(rows * 0.8 / batch))} steps per "
        "epoch; early stopping ends the run",
        f"  batch_size: {batch}",
        "  max_epochs: 100",
    ]


def starter_files(plan: StarterPlan, folder: str) -> dict[Path, str]:
    """Each file's path (below ``folder``) and text."""
    root = Path(folder)
    files = {root / "data" / f"{plan.name}.yaml": data_yaml(plan, folder)}
    for label in plan.labels:
        files[root / "task" / f"{label.name}.yaml"] = task_yaml(plan, label, folder)
    files[root / "experiment" / f"{plan.name}.yaml"] = experiment_yaml(plan, folder)
    return files


def write_new(files: dict[Path, str]) -> None:
    """Write every file, or none when one of them exists."""
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise ConfigError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}: mtfw init "
            "never overwrites a file. Choose another folder or --name, or remove them first"
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
