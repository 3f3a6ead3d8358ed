"""Paper protocols as commands: ``mtfw report --protocol`` on a run table made by hand (the
learning-rate choice, the paired advantages and the verdict worked out here), and end to end on
tiny multiruns of the protocols' experiment files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import TINY, cli

from mtfw.report.census_protocol import census_groups
from mtfw.report.collect import ReportError
from mtfw.report.protocol_cells import paired_difference
from mtfw.report.synthetic_protocol import mmoe_synthetic

MONITOR = "val/weighted/loss"


def synthetic_runs(mmoe_at_zero: list[float]) -> pd.DataFrame:
    """p in {1, 0} x three models x lr in {0.001, 0.01} x repeats 0-2. On validation lr 0.01 is
    best for shared-bottom and 0.001 for the MoE models; the other rate has the best *test*
    values (0.1), which the protocol must never pick."""
    test = {(1.0, "shared_bottom"): [1.0, 1.1, 1.2], (1.0, "mmoe"): [1.0, 1.1, 1.2],
            (1.0, "omoe"): [1.1, 1.2, 1.3], (0.0, "shared_bottom"): [2.0, 2.2, 2.4],
            (0.0, "mmoe"): mmoe_at_zero, (0.0, "omoe"): [2.1, 2.3, 2.5]}  # fmt: skip
    rows = []
    for (p, model), values in test.items():
        for lr in (0.001, 0.01):
            chosen = (lr == 0.01) == (model == "shared_bottom")
            for seed, value in enumerate(values):
                rows.append({"data.correlation": p, "encoder.name": model, "optim.lr": lr,
                             "seed": seed, "monitor": MONITOR,
                             "monitor_value": 0.5 + seed * 0.1 if chosen else 0.9 + seed,
                             "test/mean/mse": value if chosen else 0.1})  # fmt: skip
    return pd.DataFrame(rows)


def test_paired_difference_by_hand() -> None:
    mean, se, n = paired_difference({0: 2.0, 1: 2.2, 2: 2.4, 3: 9.0}, {0: 1.5, 1: 1.6, 2: 1.8})
    assert n == 3 and mean == pytest.approx((0.5 + 0.6 + 0.6) / 3)
    assert se == pytest.approx(0.1 / 3**0.5 / 3**0.5)  # sd of (0.5, 0.6, 0.6) is 0.1/sqrt(3)


def test_the_synthetic_protocol_chooses_lr_on_validation_and_checks_the_claim() -> None:
    text = mmoe_synthetic(synthetic_runs([1.5, 1.6, 1.8]))
    assert "| 1.0 | Shared-Bottom | 0.01 | 3 | 1.1000 ± 0.1000 | 1.0000 |" in text
    assert "| 0.0 | MMoE | 0.001 | 3 | 1.6333 ± 0.1528 | 1.5000 |" in text
    first_table = text.split("Advantage")[0]
    assert "0.1000 ± 0.0000" not in first_table and "| 0.1000 |" not in first_table  # not test
    # advantages (shared-bottom minus MMoE, lower mse is better): 0 at p=1; 0.5, 0.6, 0.6 at 0
    assert "| 1.0 | -0.1000 ± 0.0000 | 3 | 0.0000 ± 0.0000 | 3 |" in text
    assert "| 0.0 | -0.1000 ± 0.0000 | 3 | 0.5667 ± 0.0333 | 3 |" in text
    assert "**Supported** by this run" in text and "0.5667 ± 0.0333" in text
    assert "grows as task correlation falls" in text


def test_the_synthetic_protocol_says_when_a_run_contradicts_the_claim() -> None:
    worse = mmoe_synthetic(synthetic_runs([2.5, 2.8, 3.0]))  # MMoE behind at p=0
    assert "**Contradicted** by this run" in worse
    tied = mmoe_synthetic(synthetic_runs([1.5, 2.6, 2.0]))  # advantages 0.5, -0.4, 0.4
    assert "**Not shown** at N=3" in tied


def test_the_synthetic_protocol_refuses_runs_that_are_not_its_own() -> None:
    with pytest.raises(ReportError, match=r"no data\.correlation"):
        mmoe_synthetic(synthetic_runs([1.5, 1.6, 1.8]).drop(columns="data.correlation"))
    runs = synthetic_runs([1.5, 1.6, 1.8])
    with pytest.raises(ReportError, match="compares mmoe with shared_bottom"):
        mmoe_synthetic(runs[runs["encoder.name"] != "shared_bottom"])


def test_the_census_tables_by_hand() -> None:
    rows = []
    for model, incomes in (("mmoe", [0.95, 0.96]), ("single_task", [0.94, 0.90])):
        for seed, income in enumerate(incomes):
            rows.append({"experiment": "census_group1", "encoder.name": model, "seed": seed,
                         "monitor": MONITOR, "monitor_value": [0.3, 0.2][seed],
                         "test/income/auc": income, "test/marital/auc": 0.99,
                         "test/mean/auc": 0.5})  # fmt: skip
    text = census_groups(pd.DataFrame(rows))
    assert "### census_group1: income, marital" in text
    header = "| model | runs | income AUC mean | income AUC best | marital AUC mean |"
    assert header in text and "mean AUC" not in text
    lines = text.splitlines()
    assert lines.index(next(x for x in lines if x.startswith("| Single-Task"))) < lines.index(
        next(x for x in lines if x.startswith("| MMoE"))
    )  # the paper's row order
    assert "| Single-Task | 2 | 0.9200 ± 0.0283 | 0.9000 | 0.9900 ± 0.0000 | 0.9900 |" in text


@pytest.mark.slow  # a multirun of 24 tiny synthetic runs in-process (about a minute)
def test_the_synthetic_protocol_end_to_end(workdir: Path) -> None:
    cli("train", "-m", "experiment=mmoe_synthetic", "data.n_samples=300", "trainer.max_epochs=1",
        "optim.lr=0.01", "seed=0,1", "hydra.sweep.dir=runs", cwd=workdir)  # fmt: skip
    config = json.loads((workdir / "runs" / "0" / "summary.json").read_text())
    assert config["status"] == "completed"
    proc = cli("report", "runs", "--protocol", "mmoe_synthetic", cwd=workdir)
    for p in ("1.0", "0.9", "0.5", "0.0"):  # the correlations and models of the file
        for model in ("Shared-Bottom", "OMoE", "MMoE"):
            assert f"| {p} | {model} | 0.01 | 2 |" in proc.stdout
    assert "Published claim" in proc.stdout and "2 paired repeats" in proc.stdout


@pytest.mark.slow  # a multirun of 4 tiny census runs in-process
def test_the_census_protocol_end_to_end(workdir: Path) -> None:
    cli("train", "-m", "experiment=census_group1", "encoder=single_task,mmoe", "seed=0,1", *TINY,
        "hydra.sweep.dir=runs", cwd=workdir)  # fmt: skip
    proc = cli("report", "runs", "--protocol", "census_groups", cwd=workdir)
    assert "### census_group1: income, marital" in proc.stdout
    assert "| Single-Task | 2 |" in proc.stdout and "| MMoE | 2 |" in proc.stdout
    bad = cli("report", "runs", "--protocol", "census", cwd=workdir, check=False)
    assert bad.returncode == 2 and "census_groups, mmoe_synthetic" in bad.stderr
