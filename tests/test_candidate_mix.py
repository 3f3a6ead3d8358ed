"""The candidate mix by hand: which items each source's top-k may hold (mtl, gan, union), ties,
overlap, a k larger than the union, known items never recommended; and who proposed each."""

from __future__ import annotations

import pytest
import torch

from mtfw.metrics.candidate_mix import FROM_GAN, FROM_MTL, best_n, mixed_scores, origins
from mtfw.metrics.ranking import top_k

INF = float("-inf")
# One user, items 1..6 (column 0 is the padding item); item 2 is known.
MTL = torch.tensor([[9.0, 6.0, 9.0, 5.0, 4.0, 3.0, 2.0]])
GAN = torch.tensor([[9.0, 0.1, 0.9, 0.2, 0.3, 0.8, 0.7]])
KNOWN = torch.tensor([[False, False, True, False, False, False, False]])


def ranked(source: str, n_mtl: int, n_gan: int, k: int) -> list[int]:
    scores = mixed_scores(source, MTL, GAN, KNOWN, n_mtl, n_gan)
    top = top_k(scores, KNOWN, k)[0]
    return [int(i) for i in top if torch.isfinite(scores[0, i])]


def test_each_source_ranks_its_own_scores_without_known_items_or_padding() -> None:
    assert ranked("mtl", 2, 2, 6) == [1, 3, 4, 5, 6]  # item 2 (known, score 9) never
    assert ranked("gan", 2, 2, 6) == [5, 6, 4, 3, 1]


def test_the_union_is_the_mtl_best_then_the_gan_candidates_in_mtl_order() -> None:
    # MTL's best 2: {1, 3}; GAN's best 2: {5, 6}; ranked by MTL: 1, 3, 5, 6
    assert ranked("union", 2, 2, 4) == [1, 3, 5, 6]
    # n_mtl = 0: the MTL model re-ranks the GAN's candidates alone (its order, not the GAN's)
    assert ranked("union", 0, 3, 3) == [4, 5, 6]
    # n_mtl >= k: the MTL model's own list
    assert ranked("union", 3, 2, 3) == ranked("mtl", 0, 0, 3)


def test_overlap_counts_an_item_once() -> None:
    # MTL's best 3: {1, 3, 4}; GAN's best 3: {5, 6, 4}: item 4 is in both, the union has 5
    assert ranked("union", 3, 3, 6) == [1, 3, 4, 5, 6]


def test_a_k_larger_than_the_union_leaves_a_shorter_list() -> None:
    scores = mixed_scores("union", MTL, GAN, KNOWN, 1, 1)
    assert ranked("union", 1, 1, 5) == [1, 5]
    top = top_k(scores, KNOWN, 5)[0]
    assert not torch.isfinite(scores[0, top[2:]]).any()  # the rest is -inf: never recommended


def test_ties_rank_the_lower_index_first_in_candidates_and_lists() -> None:
    tied = torch.tensor([[0.0, 1.0, 1.0, 1.0, 1.0]])
    none = torch.zeros_like(tied, dtype=torch.bool)
    assert best_n(tied, none, 2).tolist() == [[False, True, True, False, False]]
    gan = torch.tensor([[0.0, 0.0, 0.0, 0.5, 0.5]])
    # MTL's best 1: {1} (ties: lower index); GAN's best 1: {3}; both tie on MTL score
    scores = mixed_scores("union", tied, gan, none, 1, 1)
    assert top_k(scores, none, 2).tolist() == [[1, 3]]


def test_batched_users_are_mixed_independently() -> None:
    mtl = torch.cat([MTL, MTL.flip(1)])
    gan = torch.cat([GAN, GAN])
    known = torch.cat([KNOWN, torch.zeros_like(KNOWN)])
    scores = mixed_scores("union", mtl, gan, known, 2, 2)
    for row in range(2):
        alone = mixed_scores("union", mtl[row : row + 1], gan[row : row + 1], known[row : row + 1],
                             2, 2)  # fmt: skip
        assert torch.equal(scores[row : row + 1], alone)


def test_origins_say_who_proposed_each_item() -> None:
    union = origins("union", MTL, GAN, KNOWN, 3, 3)[0].tolist()
    assert union[1] == FROM_MTL and union[5] == FROM_GAN and union[4] == FROM_MTL | FROM_GAN
    assert union[2] == 0  # known: nobody proposes it
    # mode mtl: every unseen item is the MTL model's; the GAN's best 2 are "both"
    mtl = origins("mtl", MTL, GAN, KNOWN, 3, 2)[0].tolist()
    assert mtl[1] == FROM_MTL and mtl[5] == mtl[6] == FROM_MTL | FROM_GAN
    assert origins("mtl", MTL, None, KNOWN, 3, 2)[0].tolist() == [0, 1, 0, 1, 1, 1, 1]


def test_a_source_that_needs_the_gan_refuses_without_it() -> None:
    with pytest.raises(ValueError, match="needs the GAN"):
        mixed_scores("gan", MTL, None, KNOWN, 1, 1)
    with pytest.raises(ValueError, match="not one of"):
        mixed_scores("both", MTL, GAN, KNOWN, 1, 1)
