"""Regression and count labels on their own scales (issue 12): standardised regression labels
with metrics in the label's units, ``transform: log1p``, Huber, the count task's Poisson loss and
deviance, ``val/weighted/loss`` as the monitor, and the warning when task losses start >10x apart.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import composed

from mtfw import registry
from mtfw.cli import main as cli_main
from mtfw.data.batch import Batch, Inputs
from mtfw.data.tabular import TabularFile
from mtfw.errors import ConfigError
from mtfw.metrics.regression import poisson_deviance
from mtfw.models.label_scale import LabelScale
from mtfw.sweep.objectives import parse_objectives
from mtfw.tasks import Task
from mtfw.train import run
from mtfw.trainer.evaluate import weighted_loss
from mtfw.trainer.loss_scales import loss_scale_warning

EMPTY = Inputs(torch.zeros(0, 0, dtype=torch.long), torch.zeros(0, 0))


def task(**node: object) -> Task:
    return registry.build("task", {"label": "y", **node}, where="task.t", name="t")


def fitted(t: Task, y: list[float], **other_splits: list[float]) -> Task:
    splits = {"train": y, **other_splits}
    t.fit_labels({s: Batch(EMPTY, {"y": torch.tensor(v)}, {}) for s, v in splits.items()})
    return t


def test_standardise_and_invert_round_trip() -> None:
    y = torch.tensor([1.0, 2.0, 4.0, 5.0])  # mean 3, population std sqrt(2.5)
    scale = LabelScale().fit(y)
    assert scale.shift.item() == 3.0 and scale.scale.item() == pytest.approx(math.sqrt(2.5))
    z = scale.encode(y)
    assert z.mean().item() == pytest.approx(0, abs=1e-7) and z.std(correction=0).item() == (
        pytest.approx(1, rel=1e-6)
    )
    assert torch.allclose(scale.decode(z), y)
    logged = LabelScale("log1p").fit(torch.tensor([0.0, 9.0]))  # log1p: 0 and log 10
    assert logged.shift.item() == pytest.approx(math.log(10) / 2)
    assert torch.allclose(logged.decode(logged.encode(torch.tensor([0.0, 3.0, 9.0]))),
                          torch.tensor([0.0, 3.0, 9.0]), atol=1e-5)  # fmt: skip
    assert LabelScale().fit(torch.tensor([2.0, 2.0])).scale.item() == 1.0  # constant label


def test_regression_trains_on_the_standard_label_and_reports_the_label_units() -> None:
    y = [1.0, 2.0, 4.0, 5.0]
    t = fitted(task(name="regression"), y)
    at_mean = t.evaluate(torch.zeros(4), torch.tensor(y))  # output 0: the train mean, 3
    assert at_mean["loss"] == pytest.approx(1.0)  # the standardised label has variance 1
    assert at_mean["mse"] == pytest.approx(2.5) and at_mean["mae"] == pytest.approx(1.5)  # units
    exact = t.evaluate(t.scale.encode(torch.tensor(y)), torch.tensor(y))
    assert exact["loss"] == pytest.approx(0, abs=1e-10) and exact["rmse"] < 1e-5
    raw = fitted(task(name="regression", standardize=False), y)  # the old behaviour, by choice
    assert raw.evaluate(torch.zeros(4), torch.tensor(y))["loss"] == pytest.approx(11.5)


def test_log1p_is_learned_and_inverted_with_expm1() -> None:
    y = torch.tensor([0.0, 1.0, 9.0, 99.0])
    t = fitted(task(name="regression", transform="log1p"), y.tolist())
    logs = torch.log1p(y)
    mean, std = logs.mean().item(), logs.std(correction=0).item()
    assert t.scale.shift.item() == pytest.approx(mean) and t.scale.scale.item() == (
        pytest.approx(std)
    )
    out = torch.tensor([0.0, 0.0, 0.0, 0.0])  # predicts expm1(mean of log1p y) = 9 for all
    assert t.predict(out)[0].item() == pytest.approx(math.expm1(mean), rel=1e-5)
    values = t.evaluate(out, y)
    assert values["mae"] == pytest.approx((9 + 8 + 0 + 90) / 4, rel=1e-5)  # in y's units
    assert values["loss"] == pytest.approx(1.0)  # in the standardised log units


def test_huber_is_quadratic_then_linear_in_standard_units() -> None:
    t = fitted(task(name="regression", loss="huber", huber_delta=1.0, standardize=False), [0.0])
    loss = t.pointwise_loss(torch.tensor([0.5, 3.0, -3.0]), torch.zeros(3))
    assert loss.tolist() == pytest.approx([0.125, 2.5, 2.5])  # 0.5 r^2, then d (|r| - d / 2)
    assert torch.allclose(loss, F.huber_loss(torch.tensor([0.5, 3.0, -3.0]), torch.zeros(3),
                                             reduction="none"))  # fmt: skip


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"loss": "huber", "huber_delta": 0}, "task.t.huber_delta=0 is out of range: allowed (0"),
        ({"loss": "mae"}, "task.t.loss must be one of mse, huber, not 'mae'"),
        ({"transform": "log"}, "task.t.transform must be one of none, log1p, not 'log'"),
    ],
)
def test_regression_settings_are_range_checked(node: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        task(name="regression", **node)


def test_poisson_deviance_against_a_hand_computation() -> None:
    y, mu = torch.tensor([0.0, 1.0, 3.0, 2.5]), torch.tensor([0.5, 1.0, 2.0, 2.5])
    # 2/n sum [y log(y/mu) - (y - mu)]; y log(y/mu) = 0 at y = 0; 0 where mu = y
    by_hand = 2 / 4 * ((0 + 0.5) + 0 + (3 * math.log(1.5) - 1) + 0)
    assert poisson_deviance(mu, y) == pytest.approx(by_hand, rel=1e-12)
    assert poisson_deviance(y, y) == 0.0
    assert math.isnan(poisson_deviance(torch.tensor([-1.0]), torch.tensor([1.0])))
    assert registry.get("metric", "poisson_deviance").higher_is_better is False


def test_count_loss_is_poisson_with_a_log_link_and_half_the_deviance() -> None:
    y = torch.tensor([0.0, 1.0, 3.0, 0.5])  # a non-integer count is allowed
    t = fitted(task(name="count"), y.tolist())
    assert t.scale.shift.item() == pytest.approx(math.log(y.mean().item()))  # starts at the mean
    out = torch.tensor([0.3, -0.2, 0.1, 0.0], requires_grad=True)
    loss = t.pointwise_loss(out, y)
    eta = out + t.scale.shift
    nll = F.poisson_nll_loss(eta, y, log_input=True, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), out)
    (nll_grad,) = torch.autograd.grad(nll.sum(), out)
    assert torch.allclose(grad, nll_grad)  # the same gradients as PyTorch's Poisson NLL
    mu = eta.detach().exp()
    assert loss.mean().item() == pytest.approx(poisson_deviance(mu, y) / 2, rel=1e-6)
    values = t.evaluate(out.detach(), y)
    assert values["rmse"] == pytest.approx(((mu - y) ** 2).mean().sqrt().item(), rel=1e-6)
    assert list(values) == ["loss", "poisson_deviance", "rmse", "mae"]


def test_negative_counts_are_refused_naming_the_column() -> None:
    with pytest.raises(ConfigError, match="label 'y' has 1 negative values in the val split"):
        fitted(task(name="count"), [0.0, 2.0], val=[1.0, -1.0])


def test_log1p_of_a_label_at_or_below_minus_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="transform=log1p needs label values above -1"):
        fitted(task(name="regression", transform="log1p"), [0.0, -1.0])


def test_data_log1p_naming_a_label_points_at_the_task_transform() -> None:
    with pytest.raises(ConfigError, match="set transform: log1p on the task"):
        TabularFile(labels={"visits": "visits"}, path="x.csv", numeric=["age"], log1p=["visits"])
    with pytest.raises(ConfigError, match="'spend', the label column of 'big'"):
        TabularFile(labels={"big": {"column": "spend", "above": 9}}, path="x.csv", log1p=["spend"])


def test_weighted_loss_sums_weight_times_loss_over_trained_tasks() -> None:
    a, b, c = task(name="binary"), task(name="binary", weight=3.0), task(name="binary", train=False)
    per_task = {"a": {"loss": 0.5}, "b": {"loss": 2.0}, "c": {"loss": 100.0}}
    assert weighted_loss(per_task, {"a": a, "b": b, "c": c}, "val") == {"val/weighted/loss": 6.5}
    partly = {"a": {"loss": math.nan}, "b": {"loss": 2.0}}  # NaN left out, as in the mean
    assert weighted_loss(partly, {"a": a, "b": b}, "val") == {"val/weighted/loss": 6.0}


def test_a_sweep_may_minimise_the_weighted_loss() -> None:
    objective = parse_objectives("val/weighted/loss", {"a": task(name="binary")}, False)[0]
    assert objective.direction == "minimize" and objective.per_epoch


def test_the_first_losses_warning_names_the_tasks_and_what_to_try() -> None:
    message = loss_scale_warning(["rating", "click"], torch.tensor([12.0, 0.69]))
    assert message is not None and "rating 12, click 0.69" in message and "17x" in message
    assert "weighting=uncertainty" in message and "standardize: true" in message
    assert loss_scale_warning(["a", "b"], torch.tensor([0.69, 1.0])) is None


def eval_rows(run_dir: Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if "kind" not in r]


def test_the_default_monitor_is_the_weighted_loss_and_a_weight_moves_the_selected_epoch(
    tmp_path: Path,
) -> None:
    # y1's validation loss is lowest at epoch 6, y2's at 8: with task.y1.weight=100 the weighted
    # sum selects epoch 6, where the plain mean over tasks would select epoch 8.
    cfg = composed("experiment=synthetic", "data.n_samples=2000", "trainer.batch_size=128",
                   "trainer.max_epochs=8", "trainer.patience=null", "optim.lr=0.03",
                   "data.correlation=0.0", "task.y1.weight=100")  # fmt: skip
    summary = run(cfg, tmp_path / "run")
    rows = eval_rows(tmp_path / "run")
    weighted = [r["val/weighted/loss"] for r in rows]
    assert summary["monitor"] == "val/weighted/loss"
    for r in rows:
        assert r["val/weighted/loss"] == pytest.approx(100 * r["val/y1/loss"] + r["val/y2/loss"])
        assert r["train/weighted/loss"] > 0
    mean = [r["val/mean/loss"] for r in rows]
    assert summary["best_epoch"] == 1 + weighted.index(min(weighted))
    assert summary["best_epoch"] != 1 + mean.index(min(mean))
    assert summary["monitor_value"] == min(weighted)


def test_first_losses_10x_apart_warn_before_training(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    # data.c=30 scales both synthetic labels by 30: y2 is standardised (loss ~1 at the start), y1
    # is not (MSE in the hundreds): the run warns on its first batch and goes on.
    cli_main(["train", "experiment=synthetic", "data.n_samples=500", "+task.y1.standardize=false",
              "trainer.max_epochs=1", "trainer.max_steps_per_epoch=2", "data.c=30",
              "hydra.run.dir=run"])  # fmt: skip
    err = capsys.readouterr().err
    assert "warning: the tasks' first training losses differ by" in err
    assert "y1 " in err and "y2 " in err
    assert json.loads((workdir / "run" / "summary.json").read_text())["status"] == "completed"
