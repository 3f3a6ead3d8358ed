"""The beyond-accuracy metrics against hand computations, and their invariances."""

from __future__ import annotations

import math

import pytest
import torch

from mtfw.data.interactions.popularity import ItemPopularity
from mtfw.metrics import higher_is_better
from mtfw.metrics.beyond_accuracy import (
    exposure_gini,
    gini,
    intra_list_diversity,
    long_tail_share,
    novelty,
)

# Five items (row 0 padding): genres A, A, B, A+B, none.
CATEGORIES = torch.tensor([[0, 0], [1, 0], [1, 0], [0, 1], [1, 1], [0, 0]], dtype=torch.float)


def test_ild_is_the_mean_pairwise_cosine_distance_of_each_list() -> None:
    top = torch.tensor([[1, 2, 3], [1, 4, 5]])
    # user 0: d(1,2)=0, d(1,3)=1, d(2,3)=1 -> 2/3; user 1: d(1,4)=1-1/sqrt2, d(1,5)=1, d(4,5)=1
    user1 = (1 - 1 / math.sqrt(2) + 2) / 3
    out = intra_list_diversity(top, CATEGORIES, [1, 2, 3])
    assert set(out) == {"ild@2", "ild@3"}  # one item has no pairs
    assert out["ild@3"] == pytest.approx((2 / 3 + user1) / 2)
    assert out["ild@2"] == pytest.approx((0 + 1 - 1 / math.sqrt(2)) / 2)


def test_ild_ignores_the_order_within_a_list_and_the_vectors_scale() -> None:
    top = torch.tensor([[1, 3, 4, 2]])
    shuffled = torch.tensor([[4, 2, 1, 3]])
    base = intra_list_diversity(top, CATEGORIES, [4])["ild@4"]
    assert intra_list_diversity(shuffled, CATEGORIES, [4])["ild@4"] == pytest.approx(base)
    assert intra_list_diversity(top, 7.5 * CATEGORIES, [4])["ild@4"] == pytest.approx(base)


def test_a_list_of_identical_items_has_no_diversity() -> None:
    vectors = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    assert intra_list_diversity(torch.tensor([[1, 2, 3]]), vectors, [3])["ild@3"] == pytest.approx(
        0.0, abs=1e-12
    )


def test_novelty_is_the_smoothed_self_information_of_training_popularity() -> None:
    users_per_item = torch.tensor([0, 9, 4, 0])  # 9 users in training
    top = torch.tensor([[1, 2], [3, 1]])
    info = {i: -math.log2((n + 1) / 10) for i, n in enumerate([0, 9, 4, 0])}
    out = novelty(top, users_per_item, 9, [1, 2])
    assert out["novelty@1"] == pytest.approx((info[1] + info[3]) / 2)
    assert out["novelty@2"] == pytest.approx((info[1] + info[2] + info[3] + info[1]) / 4)
    assert info[1] == 0.0  # an item every user knows tells nothing new


def test_gini_matches_the_definition_and_its_extremes() -> None:
    assert gini(torch.tensor([3.0, 3.0, 3.0])) == 0.0
    assert gini(torch.zeros(4)) == 0.0
    # one of n items takes all exposure: (n - 1) / n
    assert gini(torch.tensor([0.0, 0.0, 0.0, 5.0])) == pytest.approx(3 / 4)
    # mean absolute difference / (2 * mean) for [1, 2, 3]: (sum |xi - xj| = 8) / (2 n^2 mean)
    assert gini(torch.tensor([2.0, 3.0, 1.0])) == pytest.approx(8 / (2 * 9 * 2))


def test_exposure_gini_counts_never_recommended_items_as_zero() -> None:
    top = torch.tensor([[1, 2], [1, 2]])  # items 3 and 4 never shown
    assert exposure_gini(top, 4, [2])["gini@2"] == pytest.approx(gini(torch.tensor([2.0, 2, 0, 0])))
    spread = torch.tensor([[1, 2], [3, 4]])
    assert exposure_gini(spread, 4, [2])["gini@2"] == 0.0


def test_long_tail_share_is_the_share_of_slots_outside_the_short_head() -> None:
    interactions = torch.tensor([0, 50, 40, 5, 5, 1, 0, 0, 0, 0, 0])  # 10 items: head = items 1, 2
    top = torch.tensor([[1, 3, 4], [2, 1, 9]])
    out = long_tail_share(top, interactions, [1, 3])
    assert out["long_tail@1"] == 0.0
    assert out["long_tail@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)


def test_popularity_counts_distinct_users_and_all_interactions() -> None:
    uid = torch.tensor([1, 1, 1, 2, 3])
    item = torch.tensor([2, 2, 1, 2, 3])
    pop = ItemPopularity.of(uid, item, 4)
    assert pop.users.tolist() == [0, 1, 2, 1]
    assert pop.interactions.tolist() == [0, 1, 3, 1]
    assert pop.n_users == 3


def test_directions_are_registered() -> None:
    assert higher_is_better("ild@10") and higher_is_better("ild_embedding@5")
    assert higher_is_better("novelty@10") and higher_is_better("long_tail@20")
    assert not higher_is_better("gini@10")
