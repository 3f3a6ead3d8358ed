"""Loss weighting (mtfw/weighting): hand-computed gradients, and every registered method."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from mtfw import registry
from mtfw.weighting.base import Weighting
from mtfw.weighting.static import Static
from mtfw.weighting.uncertainty import Uncertainty

CONF = Path(__file__).resolve().parents[1] / "conf" / "weighting"


def hand_losses(theta: torch.Tensor) -> torch.Tensor:
    """L1 = 3*t0 + t1^2 and L2 = t0*t1, so at theta = (1, 2):
    L = (7, 2), dL1/dtheta = (3, 2*t1) = (3, 4), dL2/dtheta = (t1, t0) = (2, 1)."""
    return torch.stack([3 * theta[0] + theta[1] ** 2, theta[0] * theta[1]])


def test_static_returns_user_weights_and_weighted_gradient() -> None:
    theta = nn.Parameter(torch.tensor([1.0, 2.0]))
    weighting = Static(["a", "b"], [2.0, 0.5])
    weights = weighting.backward(hand_losses(theta), [theta])
    assert weights.tolist() == [2.0, 0.5]
    # 2 * (3, 4) + 0.5 * (2, 1) = (7, 8.5)
    assert theta.grad.tolist() == pytest.approx([7.0, 8.5])


def test_static_default_is_equal_weighting() -> None:
    theta = nn.Parameter(torch.tensor([1.0, 2.0]))
    weighting = registry.build("weighting", {"name": "static"}, task_names=["a", "b"],
                               task_weights=[1.0, 1.0])  # fmt: skip
    weights = weighting.backward(hand_losses(theta), [theta])
    assert weights.tolist() == [1.0, 1.0]
    assert theta.grad.tolist() == pytest.approx([3 + 2, 4 + 1])


def test_uncertainty_weights_are_exp_minus_log_var() -> None:
    weighting = Uncertainty(["a", "b"], [1.0, 1.0])
    with torch.no_grad():
        weighting.log_var.copy_(torch.tensor([0.5, -1.0]))
    weights = weighting.weights(torch.tensor([7.0, 2.0]))
    assert weights.tolist() == pytest.approx([math.exp(-0.5), math.exp(1.0)])


def test_uncertainty_gradients_by_hand() -> None:
    theta = nn.Parameter(torch.tensor([1.0, 2.0]))
    weighting = Uncertainty(["a", "b"], [1.0, 1.0])
    s = [0.5, -1.0]
    with torch.no_grad():
        weighting.log_var.copy_(torch.tensor(s))
    weights = weighting.backward(hand_losses(theta), [theta])
    w = [math.exp(-s[0]), math.exp(-s[1])]  # 0.60653, 2.71828
    assert weights.tolist() == pytest.approx(w)
    # objective = sum_t exp(-s_t) * L_t + s_t, L = (7, 2)
    # d/ds_t = -exp(-s_t) * L_t + 1 = (-0.60653 * 7 + 1, -2.71828 * 2 + 1) = (-3.24571, -4.43656)
    assert weighting.log_var.grad.tolist() == pytest.approx(
        [-w[0] * 7 + 1, -w[1] * 2 + 1], rel=1e-5
    )
    assert weighting.log_var.grad.tolist() == pytest.approx([-3.24571, -4.43656], abs=1e-4)
    # d/dtheta = sum_t exp(-s_t) dL_t/dtheta = 0.60653 * (3, 4) + 2.71828 * (2, 1)
    assert theta.grad.tolist() == pytest.approx(
        [w[0] * 3 + w[1] * 2, w[0] * 4 + w[1] * 1], rel=1e-5
    )


def test_uncertainty_scales_with_user_weights() -> None:
    theta = nn.Parameter(torch.tensor([1.0, 2.0]))
    weighting = Uncertainty(["a", "b"], [2.0, 1.0], init_log_var=0.0)
    weights = weighting.backward(hand_losses(theta), [theta])
    # s = 0: weights = user weights; d/ds_t = w_t * (1 - L_t) = (2 * (1 - 7), 1 * (1 - 2))
    assert weights.tolist() == pytest.approx([2.0, 1.0])
    assert weighting.log_var.grad.tolist() == pytest.approx([-12.0, -1.0])


def test_uncertainty_log_var_is_learnable() -> None:
    weighting = Uncertainty(["a", "b", "c"], [1.0, 1.0, 1.0], init_log_var=0.25)
    params = list(weighting.parameters())
    assert len(params) == 1 and params[0] is weighting.log_var
    assert weighting.log_var.tolist() == [0.25, 0.25, 0.25]


class TinyTwoTask(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(4, 5), nn.Tanh())
        self.heads = nn.ModuleDict({"a": nn.Linear(5, 1), "b": nn.Linear(5, 1)})

    def losses(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.representation = self.shared(x)
        out_a = self.heads["a"](h).squeeze(-1)
        out_b = self.heads["b"](h).squeeze(-1)
        loss_a = nn.functional.mse_loss(out_a, y[:, 0])
        loss_b = nn.functional.binary_cross_entropy_with_logits(out_b, (y[:, 1] > 0).float())
        return torch.stack([loss_a, loss_b])


def weighting_node(name: str):
    path = CONF / f"{name}.yaml"
    return OmegaConf.load(path) if path.is_file() else {"name": name}


@pytest.mark.parametrize("name", registry.names("weighting"))
def test_every_registered_weighting_runs_on_a_tiny_model(name: str) -> None:
    torch.manual_seed(0)
    model = TinyTwoTask()
    weighting = registry.build(
        "weighting", weighting_node(name), task_names=["a", "b"], task_weights=[1.0, 0.5]
    )
    assert isinstance(weighting, Weighting)
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    for _ in range(2):  # twice: methods with state (initial losses, histories) see a 2nd step
        model.zero_grad(set_to_none=True)
        weighting.zero_grad(set_to_none=True)
        losses = model.losses(x, y)
        weights = weighting.backward(losses, list(model.shared.parameters()), model.representation)
        assert weights.shape == (2,)
        assert torch.isfinite(weights).all()
        assert not weights.requires_grad
        for pname, param in model.named_parameters():
            assert param.grad is not None, f"{name}: no gradient for {pname}"
            assert torch.isfinite(param.grad).all(), f"{name}: non-finite gradient for {pname}"
        assert any(bool(p.grad.abs().sum() > 0) for p in model.shared.parameters())
        for param in weighting.parameters():
            assert param.grad is None or torch.isfinite(param.grad).all()
