"""A count task beside a binary task on a real public table, as a user declares it: AER's
DoctorVisits (5,190 survey respondents; ``visits`` a count 0-9, ``private`` yes/no), a data config
and task configs written into the user's own config folder, trained through ``mtfw train``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from public_tables_support import public_csv

from mtfw.cli import main as cli_main
from mtfw.experiment import build_experiment
from mtfw.run_files import read_config
from mtfw.trainer.evaluate import eval_mode

DATA = {
    "name": "tabular", "categorical": ["gender", "freepoor", "freerepat", "nchronic", "lchronic"],
    "numeric": ["age", "income", "illness", "reduced", "health"],
    "labels": {"visits": "visits", "insured": {"column": "private", "equals": "yes"}},
}  # fmt: skip
TASKS = {
    "doctor_visits": {"name": "count", "label": "visits", "tower": [32]},
    "insured": {"name": "binary", "label": "insured", "tower": [32]},
}


def user_config(folder: Path) -> Path:
    """``conf/data/survey.yaml`` and ``conf/task/<task>.yaml`` beside the downloaded CSV."""
    csv = public_csv("AER/DoctorVisits", folder / "doctorvisits.csv")
    conf = folder / "conf"
    (conf / "data").mkdir(parents=True)
    (conf / "task").mkdir()
    (conf / "data" / "survey.yaml").write_text(yaml.safe_dump({**DATA, "path": str(csv)}))
    for name, node in TASKS.items():
        (conf / "task" / f"{name}.yaml").write_text(yaml.safe_dump({name: node}))
    return conf


@pytest.mark.slow  # trains 8 epochs on 4,152 rows through the CLI (about 10 s): CI runs it
def test_a_count_beside_a_binary_task_learns_both_in_the_counts_units(workdir: Path) -> None:
    conf = user_config(workdir)
    cli_main(["train", f"--config-dir={conf}", "data=survey", "task=[doctor_visits,insured]",
              "trainer.max_epochs=8", "trainer.batch_size=256", "hydra.run.dir=run"])  # fmt: skip
    s = json.loads((workdir / "run" / "summary.json").read_text())
    assert s["status"] == "completed" and s["monitor"] == "val/weighted/loss"
    assert s["test/insured/auc"] > 0.75  # clearly above chance beside the count task
    # The model selected on validation, rebuilt from the run's config and its best.pt: the
    # count's metrics are those of its predicted means, in visits.
    exp = build_experiment(read_config(workdir / "run"))
    task = exp.tasks["doctor_visits"]
    task.scale.shift.fill_(123.0)  # best.pt carries the fitted log mean: restoring resets it
    exp.fitter.restore(exp, workdir / "run")
    train_mean = pd.read_csv(workdir / "doctorvisits.csv")["visits"].mean()
    assert task.scale.shift.item() == pytest.approx(math.log(train_mean), rel=0.1)
    assert exp.evaluate("test") == pytest.approx({k: v for k, v in s.items()
                                                  if k.startswith("test/")})  # fmt: skip
    test = exp.data.splits["test"]
    with eval_mode(exp.model), torch.no_grad():
        mu = task.predict(exp.model.eval_outputs(test.take(slice(0, len(test))))["doctor_visits"])
    visits = test.labels["visits"]
    assert mu.min() > 0 and mu.mean().item() == pytest.approx(visits.mean().item(), rel=0.25)
    assert s["test/doctor_visits/rmse"] == pytest.approx(((mu - visits) ** 2).mean().sqrt().item(),
                                                         rel=1e-5)  # fmt: skip
    assert 0 < s["test/doctor_visits/rmse"] < visits.std().item()  # better than the mean
    assert s["test/doctor_visits/poisson_deviance"] == pytest.approx(
        2 * s["test/doctor_visits/loss"], rel=1e-5
    )
