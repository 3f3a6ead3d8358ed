"""A user's own config folder, as a user writes it: a data file, a data config, a task file with a
shipped name (``task/income.yaml``), an experiment and a sweep, in ``mtfw/conf/``'s layout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

# Tiny budget on the user's 600-row table: a run takes about a second.
BUDGET = ["trainer.max_epochs=2", "trainer.batch_size=64", "embedding.dim=4"]
SHADOW_WEIGHT = 3.0  # the user's task/income.yaml weight (the shipped one says 1.0)


def people_csv(path: Path, n: int = 600) -> Path:
    """A table with string labels (income ">50K", marital status) and two input columns."""
    rows = [
        {"age": 20 + (7 * i) % 50, "job": "abcd"[i % 4], "person_id": f"p{i}",
         "income": ">50K" if (7 * i) % 50 > 30 or i % 4 == 0 else "<=50K",
         "marital-status": ["Never-married", "Married-civ-spouse"][(i // 3) % 2]}
        for i in range(n)
    ]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def write_yaml(path: Path, node: dict, header: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(node, sort_keys=False))
    return path


def user_folder(root: Path) -> Path:
    """``root/proj``: the config folder; its data file lives in ``root/data/`` (named by path)."""
    conf = root / "proj"
    data = people_csv(root / "data" / "people.csv")
    write_yaml(conf / "data" / "people.yaml", {
        "name": "tabular", "path": str(data), "categorical": ["job"], "numeric": ["age"],
        "exclude": ["person_id"],
        "labels": {"income": {"column": "income", "equals": ">50K"},
                   "marital": {"column": "marital-status", "equals": "Never-married"}},
    }, "# mtfw train --config-dir proj data=people\n")  # fmt: skip
    income = {"name": "binary", "label": "income", "weight": SHADOW_WEIGHT, "tower": [8],
              "metrics": ["auc", "logloss"]}  # fmt: skip
    write_yaml(conf / "task" / "income.yaml", {"income": income}, "# mtfw train data=people\n")
    write_yaml(conf / "experiment" / "people_mmoe.yaml", {
        "defaults": [{"override /data": "people"}, {"override /encoder": "mmoe"},
                     {"override /task": ["income", "marital"]}],
        "encoder": {"n_experts": 2},
    }, "# @package _global_\n# mtfw train --config-dir proj experiment=people_mmoe\n")  # fmt: skip
    shipped_sweep = Path(__file__).resolve().parents[1] / "mtfw" / "conf" / "sweep"
    sweep = yaml.safe_load((shipped_sweep / "architecture.yaml").read_text())
    params = {
        "encoder": "choice(shared_bottom, mmoe)",
        "optim.lr": "tag(log, interval(1e-3, 1e-2))",
    }
    sweep.update(params=params, n_trials=2, sampler={"name": "random", "seed": 0})
    sweep["pruner"] = {"name": "none"}
    write_yaml(conf / "sweep" / "people.yaml", sweep,
               "# mtfw sweep --config-dir proj sweep=people experiment=people_mmoe\n")  # fmt: skip
    return conf


def hydra_callback(path: Path, marker: Path) -> Path:
    """A ``train.yaml`` (the shipped one plus a callback) that makes Hydra open ``marker``."""
    shipped = Path(__file__).resolve().parents[1] / "mtfw" / "conf" / "train.yaml"
    node = yaml.safe_load(shipped.read_text())
    node["hydra"]["callbacks"] = {"x": {"_target_": "builtins.open", "file": str(marker),
                                        "mode": "w"}}  # fmt: skip
    return write_yaml(path / "train.yaml", node)
