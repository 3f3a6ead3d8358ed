"""Top-k ranking metrics against lists worked out by hand, ties and short lists included."""

from __future__ import annotations

import math

import pytest
import torch

from mtfw.metrics import higher_is_better
from mtfw.metrics.ranking import coverage, top_k, user_metrics


def ranked(scores: list[float], exclude: list[int], k: int) -> list[int]:
    s = torch.tensor([scores])
    mask = torch.zeros_like(s, dtype=torch.bool)
    mask[0, exclude] = True
    return top_k(s, mask, k)[0].tolist()


def test_top_k_excludes_known_items_and_the_padding_item() -> None:
    #          item: 0    1    2    3    4    5
    assert ranked([9.0, 0.5, 0.9, 0.1, 0.7, 0.3], exclude=[2], k=3) == [4, 1, 5]


def test_ties_go_to_the_lower_item_index() -> None:
    assert ranked([0.0, 1.0, 2.0, 2.0, 1.0, 2.0], exclude=[], k=4) == [2, 3, 5, 1]


def test_precision_recall_ndcg_hit_rate_by_hand() -> None:
    # Ranked list 4, 1, 5, 3, 2; relevant {1, 2} (two items).
    top = torch.tensor([[4, 1, 5, 3, 2]])
    relevant = torch.zeros(1, 6, dtype=torch.bool)
    relevant[0, [1, 2]] = True
    m = {k: v.item() for k, v in user_metrics(top, relevant, [1, 3, 5]).items()}
    assert m["precision@1"] == 0 and m["recall@1"] == 0 and m["hit_rate@1"] == 0
    assert m["ndcg@1"] == 0
    assert m["precision@3"] == pytest.approx(1 / 3) and m["recall@3"] == 0.5
    assert m["hit_rate@3"] == 1
    # DCG@3 = 1/log2(3); IDCG@3 = 1 + 1/log2(3)
    assert m["ndcg@3"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["precision@5"] == pytest.approx(2 / 5) and m["recall@5"] == 1.0
    # DCG@5 = 1/log2(3) + 1/log2(6)
    assert m["ndcg@5"] == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3))
    )


def test_fewer_relevant_items_than_k() -> None:
    # One relevant item, found first: every metric but precision is perfect.
    top = torch.tensor([[3, 1, 2], [1, 2, 3]])
    relevant = torch.zeros(2, 4, dtype=torch.bool)
    relevant[0, 3] = True
    relevant[1, [1, 2, 3]] = True
    m = user_metrics(top, relevant, [3])
    assert m["recall@3"].tolist() == [1.0, 1.0] and m["ndcg@3"].tolist() == [1.0, 1.0]
    assert m["precision@3"].tolist() == pytest.approx([1 / 3, 1.0])


def test_coverage_counts_distinct_items_in_the_top_k() -> None:
    top = torch.tensor([[1, 2, 3], [1, 4, 5]])
    assert coverage(top, 10, [1, 3]) == {"coverage@1": 0.1, "coverage@3": 0.5}


def test_metric_directions() -> None:
    assert higher_is_better("ndcg@10") and higher_is_better("hit_rate@5")
    assert higher_is_better("auc_Sci-Fi") and not higher_is_better("rmse")


def test_per_category_values_are_told_apart_from_metrics() -> None:
    from mtfw.metrics import is_per_category

    assert is_per_category("auc_Sci-Fi") and is_per_category("f1_Children's")
    assert not any(map(is_per_category, ["hit_rate@10", "auc", "logloss", "ndcg@5", "hit_rate"]))
