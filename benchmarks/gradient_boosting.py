"""Gradient boosting per task: the non-neural baseline a user tries first, on mtfw's own split.

For every task of a run (or of a config), one scikit-learn ``HistGradientBoosting`` model is fitted
on exactly the rows, features and labels mtfw trains on: the data are prepared by mtfw
(``prepare_data``: same split, same train-fitted preprocessing), categorical fields are passed as
categorical features, early stopping watches the validation split, and the test metrics are the
task's own registered metrics. Binary tasks get a classifier; regression a squared-error
regressor; counts a Poisson regressor (log link, like ``name: count``). Requires scikit-learn
(``pip install 'mtfw[bench]'``); mtfw itself does not depend on it.

  python benchmarks/gradient_boosting.py --run outputs/runs/2026-12-01/12-00-00   # a run's config
  python benchmarks/gradient_boosting.py --config-dir proj experiment=doctorvisits --out gbm.json

It prints ``test/<task>/<metric>`` beside the given runs' values, and ``--out`` writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from mtfw.checks import build_tasks
from mtfw.experiment import prepare_data
from mtfw.metrics import higher_is_better
from mtfw.registry import get
from mtfw.run_files import read_config, read_summary
from mtfw.sweep.compose import compose_config, hydra_context
from mtfw.tasks.count import CountTask
from mtfw.tasks.pointwise import BinaryTask, RegressionTask
from mtfw.user_config.folders import resolve, searching

MAX_CATEGORIES = 255  # HistGradientBoosting's limit for a categorical feature
MAX_ITER = 300


def design(split) -> tuple[np.ndarray, object]:
    """The split's feature matrix (categorical ids, then numeric features) and its batch."""
    batch = split.take(slice(None))
    cat, num = batch.inputs.cat.double(), batch.inputs.num.double()
    return torch.cat([cat, num], dim=1).numpy(), batch


def estimator(task, categorical: list[bool], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    # No early stopping of sklearn's own (it would split train): the iteration count is chosen
    # on mtfw's validation split, as mtfw chooses its epoch.
    common = dict(categorical_features=np.array(categorical), early_stopping=False,
                  max_iter=MAX_ITER, random_state=seed)  # fmt: skip
    if isinstance(task, BinaryTask):
        return HistGradientBoostingClassifier(**common)
    if isinstance(task, CountTask):
        return HistGradientBoostingRegressor(loss="poisson", **common)
    if isinstance(task, RegressionTask):
        return HistGradientBoostingRegressor(**common)
    raise SystemExit(f"task type {type(task).__name__} has no gradient-boosting counterpart here")


def labelled(task, x: np.ndarray, batch) -> tuple[np.ndarray, torch.Tensor]:
    target, mask = task.target(batch)
    if mask is None:
        return x, target
    return x[mask.numpy()], target[mask]


def fit_task(task, splits: dict, categorical: list[bool], seed: int) -> dict[str, float]:
    """Fit on train, choose the number of trees on val, score test with the task's metrics."""
    x_train, y_train = labelled(task, *splits["train"])
    x_val, y_val = labelled(task, *splits["val"])
    x_test, y_test = labelled(task, *splits["test"])
    model = estimator(task, categorical, seed).fit(x_train, y_train.numpy())
    selection = task.metrics[0]  # the task's first metric picks the iteration count on val
    score, sign = get("metric", selection), 1.0 if higher_is_better(selection) else -1.0
    values = [sign * score(torch.as_tensor(p), y_val) for p in staged(model, x_val)]
    best = int(np.argmax(values))  # deterministic fit: the first `best + 1` trees of this one
    pred = torch.as_tensor(next(p for i, p in enumerate(staged(model, x_test)) if i == best))
    return {f"test/{task.name}/{m}": get("metric", m)(pred, y_test) for m in task.metrics}


def staged(model, x: np.ndarray):
    if hasattr(model, "staged_predict_proba"):
        return (p[:, 1] for p in model.staged_predict_proba(x))
    return model.staged_predict(x)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="a finished run: its config (data, tasks, split)")
    parser.add_argument("--config-dir", action="append", default=[], help="a user config folder")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="runs to print beside")
    parser.add_argument("--out", type=Path, help="write the test metrics as JSON")
    parser.add_argument("overrides", nargs="*", help="config overrides, as for mtfw train")
    args = parser.parse_args(argv)
    if args.run:
        cfg = read_config(args.run)
        args.compare = [args.run, *args.compare]
    else:
        with searching(resolve(args.config_dir)), hydra_context():
            cfg = compose_config(args.overrides).cfg
    tasks = build_tasks(cfg)
    data = prepare_data(cfg, tasks)
    splits = {name: design(split) for name, split in data.splits.items()}
    cat = splits["train"][1].inputs.cat
    n_cat = cat.shape[1]
    categorical = [j < n_cat and int(cat[:, j].max()) < MAX_CATEGORIES
                   for j in range(splits["train"][0].shape[1])]  # fmt: skip
    results: dict[str, float] = {}
    for task in tasks.values():
        results.update(fit_task(task, splits, categorical, int(cfg.seed)))
    others = {str(run): read_summary(run) or {} for run in args.compare}
    for run, summary in others.items():  # what each column is: the command that made it
        print(f"{Path(run).name}: {run} ({summary.get('command', 'no command recorded')})")
    print(f"{'metric':32s} {'gbm':>10s}" + "".join(f" {Path(r).name[-18:]:>18s}" for r in others))
    for key, value in results.items():
        row = "".join(f" {s.get(key, float('nan')):18.4f}" for s in others.values())
        print(f"{key:32s} {value:10.4f}{row}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
