"""User-history encoders: SASRec is causal and ignores empty positions; mean pools the items."""

from __future__ import annotations

import torch

from mtfw.models.history import MeanHistory, SASRec


def hidden_states(model: SASRec, items: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Every position's output (the encoder returns the last one)."""
    present = (items > 0).unsqueeze(-1).float()
    x = (vectors * model.dim**0.5 + model.positions.weight[: items.shape[1]]) * present
    mask = torch.nn.Transformer.generate_square_subsequent_mask(items.shape[1])
    for block in model.blocks:
        x = block(x, src_mask=mask, is_causal=True) * present
    return x


def test_sasrec_positions_never_see_later_items() -> None:
    torch.manual_seed(0)
    model = SASRec(dim=8, length=6, dropout=0.0).eval()
    items = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    vectors = torch.randn(2, 6, 8)
    later = vectors.clone()
    later[:, 4:] = torch.randn(2, 2, 8)  # other vectors for the two most recent items only
    before, after = hidden_states(model, items, vectors), hidden_states(model, items, later)
    assert torch.allclose(before[:, :4], after[:, :4], atol=1e-6)
    assert not torch.allclose(before[:, 4:], after[:, 4:])
    assert not torch.allclose(model(items, vectors), model(items, later))


def test_sasrec_empty_history_is_zero_and_padding_does_not_matter() -> None:
    torch.manual_seed(0)
    model = SASRec(dim=8, length=4, dropout=0.0).eval()
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
