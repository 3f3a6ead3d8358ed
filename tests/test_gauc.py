"""gAUC: AUC per user over users with both classes, weighted by each user's samples; by hand,
against the per-user AUC, through the CLI on the tabular example, and refused without a user id."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from conftest import TINY, cli

from mtfw import registry
from mtfw.metrics.classification import auc
from mtfw.metrics.grouped import gauc

FIXTURE = Path(__file__).parent / "fixtures" / "click_log.csv"


def t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_gauc_by_hand() -> None:
    # user 7: the positive 0.9 beats both negatives, AUC 1 (3 samples); user 3: positives 0.3
    # and 0.5 against negatives 0.8 and 0.5: 0 + 0 + 0 + 1/2 of 4 pairs, AUC 1/8 (4 samples);
    # user 5 (only positives) and user 9 (one sample) have no AUC and are skipped.
    pred = t([0.9, 0.2, 0.6, 0.3, 0.8, 0.5, 0.5, 0.4, 0.1, 0.7])
    label = t([1, 0, 0, 1, 0, 1, 0, 1, 1, 0])
    users = torch.tensor([7, 7, 7, 3, 3, 3, 3, 5, 5, 9])
    assert gauc(pred, label, users) == pytest.approx((3 * 1.0 + 4 * 0.125) / 7, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gauc_is_the_sample_weighted_mean_of_per_user_aucs(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    n = 400
    users = torch.randint(0, 40, (n,), generator=g)
    label = (torch.rand(n, generator=g) < 0.3).float()
    pred = torch.randint(0, 8, (n,), generator=g).float() / 8  # many ties
    total = weight = 0.0
    for user in users.unique():
        rows = users == user
        value = auc(pred[rows], label[rows])
        if not math.isnan(value):
            total, weight = total + value * int(rows.sum()), weight + int(rows.sum())
    assert gauc(pred, label, users) == pytest.approx(total / weight, abs=1e-12)
    order = torch.randperm(n, generator=g)  # the rows' order does not matter
    assert gauc(pred[order], label[order], users[order]) == pytest.approx(total / weight, abs=1e-12)


def test_gauc_without_a_user_holding_both_classes_is_nan() -> None:
    assert math.isnan(gauc(t([0.1, 0.9]), t([1, 0]), torch.tensor([1, 2])))
    assert math.isnan(gauc(t([]), t([]), torch.tensor([], dtype=torch.long)))


def test_gauc_is_registered_higher_is_better() -> None:
    assert "gauc" in registry.names("metric") and registry.get("metric", "gauc").higher_is_better


@pytest.mark.slow  # trains a tiny run in-process (several seconds): CI runs it
def test_gauc_through_the_cli_on_the_tabular_example(workdir: Path) -> None:
    cli("train", "data=tabular_example", f"data.path={FIXTURE}", "task=[click]",
        "task.click.metrics=[auc,gauc]", *TINY, "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = json.loads((workdir / "run" / "summary.json").read_text())
    for split in ("val", "test"):
        assert 0.0 <= s[f"{split}/click/gauc"] <= 1.0
    assert s["test/click/gauc"] != s["test/click/auc"]  # per user, not the pooled AUC


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["task.income.metrics=[auc,gauc]"], ["task 'income' asks for gauc",
                                               "data=census has no data.user_id"]),
        (["data=tabular_example", f"data.path={FIXTURE}", "task=[click]", "~data.user_id",
          "task.click.metrics=[gauc]"], ["task 'click' asks for gauc", "data.user_id=<column>"]),
        (["data=tabular_example", f"data.path={FIXTURE}", "task=[click]", "data.user_id=usr",
          "task.click.metrics=[gauc]"], ["data.user_id: no column matches 'usr'",
                                         "Did you mean 'user_id'"]),
    ],
)  # fmt: skip
def test_gauc_without_a_user_id_is_refused(
    overrides: list[str], expected: list[str], workdir: Path
) -> None:
    proc = cli("train", *overrides, *TINY, "hydra.run.dir=run", cwd=workdir, check=False)
    assert proc.returncode == 2, proc.stderr
    for text in expected:
        assert text in proc.stderr
    assert "Traceback" not in proc.stderr and not (workdir / "run").exists()
