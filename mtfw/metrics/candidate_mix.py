"""Which items a top-k list may hold when two recommenders propose candidates: the multi-task
model (``mtl``) and a GAN's generator (``gan``), for a batch of users at once.

- ``mtl``: the MTL model's scores over the whole catalogue (what a run ranks without a GAN);
- ``gan``: the GAN's scores over the whole catalogue;
- ``union``: the MTL model's ``n_mtl`` best items and the GAN's ``n_gan`` best, ranked by the MTL
  model's score. Since the MTL model's own ``n_mtl`` best outscore every other item, the list is
  those ``n_mtl`` items, then the GAN's candidates in the MTL model's order: ``n_mtl`` is how many
  leading slots the MTL model fills on its own (``n_mtl >= k``: the MTL list; ``n_mtl = 0``: the
  MTL model re-ranks the GAN's candidates alone).

Items a user knows (``exclude``) are never candidates, nor is the padding item 0; ties rank the
lower item index first, as everywhere (:func:`mtfw.metrics.ranking.top_k`). Scores outside the
candidate set are ``-inf``: a list longer than the candidate set holds them only at its end.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.metrics.ranking import top_k

SOURCES = ("mtl", "gan", "union")
FROM_MTL, FROM_GAN = 1, 2  # bits of :func:`origins`; both set: proposed by both ("both")
ORIGIN_NAMES = {FROM_MTL: "mtl", FROM_GAN: "gan", FROM_MTL | FROM_GAN: "both"}


def best_n(scores: Tensor, exclude: Tensor, n: int) -> Tensor:
    """``[B, I]`` bool: each user's ``n`` best-scored items that are not excluded (ties: lower
    index first); fewer where a user has fewer than ``n`` items left."""
    chosen = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
    if n == 0:
        return chosen
    top = top_k(scores, exclude, min(n, scores.shape[1]))
    chosen.scatter_(1, top, True)
    chosen &= ~exclude
    chosen[:, 0] = False
    return chosen


def mixed_scores(
    source: str, mtl: Tensor, gan: Tensor | None, exclude: Tensor, n_mtl: int, n_gan: int
) -> Tensor:
    """``[B, I]`` scores whose top-k (:func:`top_k`) is ``source``'s list: the ranking source's
    scores on the candidates, ``-inf`` elsewhere (excluded items and the padding item too)."""
    if source not in SOURCES:
        raise ValueError(f"candidate source '{source}' is not one of {', '.join(SOURCES)}")
    if source != "mtl" and gan is None:
        raise ValueError(f"candidate source '{source}' needs the GAN's scores")
    ranked = gan if source == "gan" else mtl
    allowed = ~exclude
    if source == "union":
        allowed = best_n(mtl, exclude, n_mtl) | best_n(gan, exclude, n_gan)
    scores = ranked.float().masked_fill(~allowed, float("-inf"))
    scores[:, 0] = float("-inf")
    return scores


def origins(
    source: str, mtl: Tensor, gan: Tensor | None, exclude: Tensor, n_mtl: int, n_gan: int
) -> Tensor:
    """``[B, I]`` long: who proposed each item, ``FROM_MTL`` and/or ``FROM_GAN`` bits. The
    ranking source of ``mtl`` and ``gan`` proposes every item it ranks; otherwise a model
    proposes its ``n`` best (``n_mtl``, ``n_gan``). Without a GAN every item is the MTL's."""
    every = (~exclude).long()
    every[:, 0] = 0  # the padding item
    if gan is None:
        return every * FROM_MTL
    by_mtl = every if source == "mtl" else best_n(mtl, exclude, n_mtl).long()
    by_gan = every if source == "gan" else best_n(gan, exclude, n_gan).long()
    return by_mtl * FROM_MTL + by_gan * FROM_GAN
