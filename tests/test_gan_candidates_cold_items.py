"""GAN candidates under ``data.split.by=cold_start_items``, where evaluation ranks the split's
held-out items only: the union's candidates must be drawn from those items (a union drawn from
the whole catalogue holds warm items the evaluation then drops, and no ranked item at all)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import cli, summary
from recsys_support import ml100k
from test_gan_candidates import GAN, MTL, ranking
from torch import nn

from mtfw.candidates.gan_source import CandidateMix
from mtfw.candidates.settings import CandidateSettings

# One user, items 1..6 (0 is padding); item 2 is known; items 1 and 3 are not ranked (warm items
# under cold_start_items). Both models like the unranked items best.
MTL_SCORES = torch.tensor([[0.0, 9.0, 8.0, 7.0, 3.0, 2.0, 1.0]])
GAN_SCORES = torch.tensor([[0.0, 0.7, 0.8, 0.9, 0.1, 0.2, 0.3]])
KNOWN = torch.tensor([[False, False, True, False, False, False, False]])
UNRANKED = torch.tensor([[False, True, False, True, False, False, False]])


class FixedGenerator(nn.Module):
    def forward(self, known: torch.Tensor) -> torch.Tensor:
        return GAN_SCORES.expand(known.shape[0], -1)


def candidates(unranked: torch.Tensor | None) -> set[int]:
    settings = CandidateSettings(source="union", gan_run="gan", n_mtl=1, n_gan=1)
    mix = CandidateMix(settings, FixedGenerator(), ["ranking"])
    scores = mix.apply({"ranking": MTL_SCORES}, SimpleNamespace(known=KNOWN), unranked)
    return {int(i) for i in torch.isfinite(scores["ranking"][0]).nonzero()}


def test_the_union_draws_its_candidates_from_the_ranked_items_only() -> None:
    assert candidates(None) == {1, 3}  # the whole catalogue: each model's best unknown item
    # ranked items 4, 5, 6 only: the MTL model's best of them (4) and the GAN's (6)
    assert candidates(UNRANKED) == {4, 6}


@pytest.mark.slow  # MovieLens-100K: a small CFGAN and an MTL run on the cold-start items split
def test_a_union_led_by_the_mtl_model_is_its_own_list_on_cold_items(tmp_path: Path) -> None:
    split = "data.split.by=cold_start_items"
    cli("train", *GAN, *ml100k(), split, "hydra.run.dir=gan", cwd=tmp_path)
    # n_mtl=20 >= every k: the MTL model's own 20 best lead every list, so the union's lists
    # are the MTL model's lists, all of held-out items
    cli("train", *MTL, *ml100k(), split, f"candidates.gan_run={tmp_path / 'gan'}",
        "candidates.report=[mtl,union]", "candidates.n_mtl=20", "hydra.run.dir=mtl",
        cwd=tmp_path)  # fmt: skip
    s = summary(tmp_path / "mtl")
    for part in ("val", "test"):
        mtl = ranking(s, split=part)
        assert mtl["ndcg@10"] > 0 and mtl == ranking(s, "ranking.union", part)
