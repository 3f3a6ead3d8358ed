"""User-history encoders: SASRec is causal and ignores empty positions; mean pools the items."""

from __future__ import annotations

import pytest
import torch

from mtfw.models.history import MeanHistory
from mtfw.models.sasrec import SASRec

POSITIONS = pytest.mark.parametrize("positions", ["absolute", "relative"])


def hidden_states(model: SASRec, items: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Every position's output (the encoder returns the last one)."""
    return model.hidden(items, vectors)[0]


@POSITIONS
def test_sasrec_positions_never_see_later_items(positions) -> None:
    torch.manual_seed(0)
    model = SASRec(dim=8, length=6, dropout=0.0, positions=positions).eval()
    items = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    vectors = torch.randn(2, 6, 8)
    later = vectors.clone()
    later[:, 4:] = torch.randn(2, 2, 8)  # other vectors for the two most recent items only
    before, after = hidden_states(model, items, vectors), hidden_states(model, items, later)
    assert torch.allclose(before[:, :4], after[:, :4], atol=1e-6)
    assert not torch.allclose(before[:, 4:], after[:, 4:])
    assert not torch.allclose(model(items, vectors), model(items, later))


@POSITIONS
def test_sasrec_empty_history_is_zero_and_padding_does_not_matter(positions) -> None:
    torch.manual_seed(0)
    model = SASRec(dim=8, length=4, dropout=0.0, positions=positions).eval()
    items = torch.tensor([[0, 0, 0, 0], [0, 0, 7, 9]])
    vectors = torch.randn(2, 4, 8)
    out = model(items, vectors)
    assert torch.equal(out[0], torch.zeros(8)) and torch.isfinite(out).all()
    noisy = vectors.clone()
    noisy[:, :2] = torch.randn(2, 2, 8)  # what sits in empty positions is ignored
    assert torch.allclose(model(items, noisy), out, atol=1e-6)


def test_mean_history_pools_present_items_only() -> None:
    items = torch.tensor([[0, 2, 3], [0, 0, 0]])
    vectors = torch.arange(18, dtype=torch.float).reshape(2, 3, 3)
    out = MeanHistory(dim=3, length=3)(items, vectors)
    assert out[0].tolist() == ((vectors[0, 1] + vectors[0, 2]) / 2).tolist()
    assert out[1].tolist() == [0.0, 0.0, 0.0]


def test_relative_positions_see_the_last_length_positions_only() -> None:
    """One relative block at a position reads that position and the ``length - 1`` before it:
    older items change nothing, any of the last ``length`` does."""
    torch.manual_seed(0)
    model = SASRec(dim=8, length=4, blocks=1, heads=2, dropout=0.0).eval()
    items = torch.arange(1, 8).unsqueeze(0)  # 7 positions, the state after the last one
    vectors = torch.randn(1, 7, 8)
    out = model.states(items, vectors)[:, -1]
    older, recent = vectors.clone(), vectors.clone()
    older[:, :3] = torch.randn(1, 3, 8)  # 4 or more steps back
    recent[:, 3] = torch.randn(1, 8)  # 3 steps back
    assert torch.allclose(model.states(items, older)[:, -1], out, atol=1e-6)
    assert not torch.allclose(model.states(items, recent)[:, -1], out)
    assert torch.allclose(model(items[:, 3:], vectors[:, 3:]), out, atol=1e-6)  # the last 4


def test_relative_bias_is_learned_per_head_and_distance() -> None:
    torch.manual_seed(0)
    model = SASRec(dim=8, length=5, heads=2, dropout=0.0)
    assert model.positions.bias.shape == (2, 5)
    items = torch.tensor([[0, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6]])
    model.states(items, torch.randn(2, 6, 8)).sum().backward()
    grad = model.positions.bias.grad
    assert grad is not None and bool((grad != 0).all())  # both heads, every distance
    assert not torch.allclose(grad[0], grad[1])
    with torch.no_grad():  # a bias changes the states
        before = model.eval().states(items, torch.ones(2, 6, 8))
        model.positions.bias[1, 1] += 1.0
        assert not torch.allclose(model.states(items, torch.ones(2, 6, 8)), before)


def test_absolute_positions_keep_the_papers_parameters() -> None:
    model = SASRec(dim=8, length=6, positions="absolute")
    assert model.positions.weight.shape == (6, 8)
    names = {n for n, _ in model.named_parameters() if n.startswith("positions")}
    assert names == {"positions.weight"}  # what checkpoints of earlier runs hold
