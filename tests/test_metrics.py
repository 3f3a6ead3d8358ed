"""Metrics (mtfw/metrics) against hand-computed values and a brute-force AUC."""

from __future__ import annotations

import math

import pytest
import torch

from mtfw import registry
from mtfw.metrics.classification import accuracy, auc, logloss
from mtfw.metrics.regression import mae, mse, rmse


def t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def brute_force_auc(pred: torch.Tensor, target: torch.Tensor) -> float:
    """P(score of a positive > score of a negative), a tie counting 1/2: all n_pos * n_neg pairs."""
    pos = pred[target.bool()].double()
    neg = pred[~target.bool()].double()
    diff = pos[:, None] - neg[None, :]
    wins = (diff > 0).double().sum() + 0.5 * (diff == 0).double().sum()
    return float(wins / (pos.numel() * neg.numel()))


# Each case: scores, labels, AUC worked out by hand over the (positive, negative) pairs.
AUC_CASES = [
    # positives 0.4, 0.8; negatives 0.1, 0.4.
    # 0.4 vs 0.1 -> 1, 0.4 vs 0.4 -> 1/2 (tie), 0.8 vs 0.1 -> 1, 0.8 vs 0.4 -> 1: 3.5 / 4 = 0.875
    ([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1], 0.875),
    # positives 0.2 (index 0), 0.6 (index 3); negatives 0.2, 0.2, 0.6.
    # 0.2 vs (0.2, 0.2, 0.6) -> 1/2 + 1/2 + 0 = 1; 0.6 vs (0.2, 0.2, 0.6) -> 1 + 1 + 1/2 = 2.5
    # (1 + 2.5) / (2 * 3) = 3.5 / 6 = 7/12
    ([0.2, 0.2, 0.2, 0.6, 0.6], [1, 0, 0, 1, 0], 7 / 12),
    # unsorted, no ties: positives 0.5, 0.9; negatives 0.1, 0.3, 0.7.
    # 0.5 beats 0.1, 0.3 -> 2; 0.9 beats all three -> 3: 5 / 6
    ([0.5, 0.1, 0.9, 0.3, 0.7], [1, 0, 1, 0, 0], 5 / 6),
    # every positive scored below every negative: 0 / 4
    ([0.9, 0.8, 0.3, 0.1], [0, 0, 1, 1], 0.0),
    # perfect ranking: 4 / 4
    ([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], 1.0),
    # positive 0.3 vs negatives 0.3, 0.3, 0.1 -> 1/2 + 1/2 + 1 = 2: 2 / 3
    ([0.3, 0.3, 0.3, 0.1], [0, 1, 0, 0], 2 / 3),
]


@pytest.mark.parametrize(("scores", "labels", "expected"), AUC_CASES)
def test_auc_hand_cases(scores: list[float], labels: list[int], expected: float) -> None:
    assert auc(t(scores), t(labels)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("scores", "labels", "expected"), AUC_CASES)
def test_auc_does_not_depend_on_row_order(
    scores: list[float], labels: list[int], expected: float
) -> None:
    perm = torch.randperm(len(scores), generator=torch.Generator().manual_seed(1))
    assert auc(t(scores)[perm], t(labels)[perm]) == pytest.approx(expected, abs=1e-12)


def test_auc_accepts_bool_and_integer_labels() -> None:
    scores = t([0.1, 0.4, 0.4, 0.8])
    assert auc(scores, torch.tensor([False, False, True, True])) == pytest.approx(0.875)
    assert auc(scores, torch.tensor([0, 0, 1, 1])) == pytest.approx(0.875)


def test_auc_all_scores_tied_is_one_half() -> None:
    assert auc(t([0.3] * 6), t([0, 1, 1, 0, 1, 0])) == pytest.approx(0.5)


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1, 1]])
def test_auc_one_class_only_is_nan(labels: list[int]) -> None:
    assert math.isnan(auc(t([0.2, 0.5, 0.9]), t(labels)))


@pytest.mark.parametrize("seed", range(5))
def test_auc_matches_brute_force_pair_count_with_many_ties(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    n = 300
    # Scores from only 7 distinct values: most pairs are ties.
    pred = torch.randint(0, 7, (n,), generator=gen).float() / 7
    target = (torch.rand(n, generator=gen) < 0.3).float()
    assert auc(pred, target) == pytest.approx(brute_force_auc(pred, target), abs=1e-12)


def test_auc_matches_brute_force_without_ties() -> None:
    gen = torch.Generator().manual_seed(11)
    pred = torch.rand(400, generator=gen, dtype=torch.float64)
    target = (torch.rand(400, generator=gen) < pred).float()  # informative scores
    value = auc(pred, target)
    assert value == pytest.approx(brute_force_auc(pred, target), abs=1e-12)
    assert value > 0.6


def test_logloss_hand_case() -> None:
    # -(ln 0.8 + ln(1 - 0.4)) / 2 = (0.22314 + 0.51083) / 2 = 0.366985
    value = logloss(t([0.8, 0.4]), t([1, 0]))
    assert value == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-6)
    assert value == pytest.approx(0.366985, abs=1e-6)


def test_logloss_clips_certain_wrong_predictions() -> None:
    # p clipped to [1e-7, 1 - 1e-7]: each sample costs -ln(1e-7) = 16.118...
    value = logloss(t([1.0, 0.0]), t([0, 1]))
    assert math.isfinite(value)
    assert value == pytest.approx(-math.log(1e-7), rel=1e-5)
    # certain and right: close to zero, not NaN
    assert logloss(t([1.0, 0.0]), t([1, 0])) == pytest.approx(0.0, abs=1e-6)


def test_accuracy_hand_case() -> None:
    # 0.5 -> 1 (right), 0.49 -> 0 (right), 0.9 -> 1 (wrong), 0.1 -> 0 (right): 3 / 4
    assert accuracy(t([0.5, 0.49, 0.9, 0.1]), t([1, 0, 0, 0])) == pytest.approx(0.75)
    assert accuracy(t([0.2, 0.7]), t([1, 0])) == pytest.approx(0.0)


def test_regression_metrics_hand_case() -> None:
    pred, target = t([1, 2, 3]), t([1, 0, 6])
    # errors 0, 2, -3 -> squares 0, 4, 9; absolute 0, 2, 3
    assert mse(pred, target) == pytest.approx(13 / 3)
    assert rmse(pred, target) == pytest.approx(math.sqrt(13 / 3))
    assert mae(pred, target) == pytest.approx(5 / 3)


def test_metrics_are_registered_with_their_direction() -> None:
    expected = {
        "auc": True,
        "accuracy": True,
        "logloss": False,
        "mse": False,
        "rmse": False,
        "mae": False,
    }
    for name, higher in expected.items():
        fn = registry.get("metric", name)
        assert fn.higher_is_better is higher, name
    assert registry.get("metric", "auc") is auc


def test_one_direction_per_metric_shared_by_selection_report_and_sweep() -> None:
    """Every registered metric and every key a task reports (ranking cut-offs included) has a
    direction in the metrics module, and `mtfw report` and `mtfw sweep` take theirs from it."""
    from mtfw.metrics import directions, higher_is_better
    from mtfw.report.direction import higher_is_better as report_direction
    from mtfw.sweep.objectives import parse_objectives

    assert set(registry.names("metric")) <= set(directions())
    tasks = {}
    for name in registry.names("task"):
        label = {"label": "y"} if "label" in registry.parameters("task", name) else {}
        tasks[name] = registry.build("task", {"name": name, **label}, name=name)
    assert "ndcg@10" in tasks["ranking"].eval_keys()
    keys = sorted({f"{s}/{t}/{m}" for s in ("val", "test") for t, task in tasks.items()
                   for m in task.eval_keys()})  # fmt: skip
    for objective in parse_objectives([*keys, "val/mean/loss", "n_parameters"], tasks, True):
        higher = higher_is_better(objective.key.rsplit("/", 1)[-1])
        assert objective.direction == ("maximize" if higher else "minimize"), objective.key
        assert report_direction(objective.key) is higher, objective.key
    expected = {"loss": False, "auc": True, "logloss": False, "rmse": False, "mae": False,
                "ndcg@10": True, "hit_rate@5": True, "coverage@20": True, "recall@1": True,
                "auc_Sci-Fi": True, "n_parameters": False}  # fmt: skip
    for name, higher in expected.items():
        assert higher_is_better(name) is higher, name
        assert report_direction(f"test/a/{name}") is higher, name
    assert report_direction("test/a/score") is None  # nobody registered it: the report says so


def test_reported_means_do_not_depend_on_the_thread_count_or_the_order() -> None:
    """torch's float64 mean of a large tensor moves in its last digits with the thread count
    (the work is split between threads); a resumed run must record the uninterrupted run's
    figures bit for bit, so metrics use the correctly rounded mean."""
    from mtfw.metrics.exact import exact_mean

    g = torch.Generator().manual_seed(0)
    values = torch.rand(300_001, generator=g, dtype=torch.double) * 1e3
    saved = torch.get_num_threads()
    try:
        by_threads = set()
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            by_threads.add(exact_mean(values))
    finally:
        torch.set_num_threads(saved)
    shuffled = values[torch.randperm(values.numel(), generator=g)]
    assert by_threads == {exact_mean(shuffled)}
    assert exact_mean(values) == pytest.approx(float(values.mean()), rel=1e-12)
    assert math.isnan(exact_mean(torch.empty(0)))
