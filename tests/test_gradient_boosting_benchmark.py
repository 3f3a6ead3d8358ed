"""benchmarks/gradient_boosting.py scores a run's tasks with gradient boosting on its own split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import benchmark_script, cli, summary
from public_tables_support import public_csv

pytest.importorskip("sklearn", reason="the benchmark's baseline: pip install 'mtfw[bench]'")


def benchmark():
    return benchmark_script("gradient_boosting")


@pytest.mark.slow  # a training run and two boosted models: several seconds; CI runs it
def test_every_metric_of_the_run_gets_a_gradient_boosting_value(workdir: Path, capsys) -> None:
    csv = public_csv("AER/DoctorVisits", workdir / "doctorvisits.csv")
    cli("init", "proj", "--csv", str(csv), "--label", "visits", "private", cwd=workdir)
    cli("train", "--config-dir", "proj", "experiment=doctorvisits", "trainer.max_epochs=2",
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    out = workdir / "gbm.json"
    assert benchmark().main(["--run", str(workdir / "run"), "--out", str(out)]) == 0
    gbm, run = json.loads(out.read_text()), summary(workdir / "run")
    tested = {k for k in run if k.startswith("test/") and not k.endswith("/loss")}
    assert set(gbm) == tested - {
        k for k in tested if k.startswith(("test/mean/", "test/weighted/"))
    }
    assert gbm["test/private/auc"] > 0.75  # private insurance is predictable from the survey
    assert 0 < gbm["test/visits/poisson_deviance"] < 1.2  # in counts, like the run's
    printed = capsys.readouterr().out
    assert "test/private/auc" in printed and "run" in printed.splitlines()[0]
