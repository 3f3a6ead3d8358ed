"""Hand-computed cases for each method: small gradients whose combination is worked out in the
comments. Linear losses ``L_t = g_t . theta`` make ``g_t`` the task gradients exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.weighting.cagrad import cagrad_dual
from mtfw.weighting.nash_mtl import nash_weights
from mtfw.weighting.solvers import min_norm_weights, nonneg_qp


def make(name: str, n_tasks: int = 2, weights: list[float] | None = None, **options):
    names = ["a", "b", "c"][:n_tasks]
    node = {"name": name, **options}
    return registry.build("weighting", node, task_names=names,
                          task_weights=weights or [1.0] * n_tasks)  # fmt: skip


def combine(weighting, *grads: tuple[float, ...], mode: str = "parameters") -> tuple[list, list]:
    """Run ``weighting`` on linear losses with the given gradients; (update, weights).

    In representation mode the losses read ``z = theta * 1`` (an identity encoder), so the
    representation gradients are the same vectors and ``theta.grad`` is the update on ``z``."""
    theta = nn.Parameter(torch.ones(len(grads[0])))
    z = theta * 1.0
    g = torch.tensor(grads, dtype=torch.float32)
    losses = g @ z + 10.0  # positive losses (FAMO, DB-MTL take logs); gradients unchanged
    weights = weighting.backward(losses, [theta], z if mode == "representation" else None)
    return theta.grad.tolist(), weights.tolist()


@pytest.mark.parametrize("mode", ["parameters", "representation"])
def test_mgda_two_task_closed_form(mode: str) -> None:
    # g1 = (1, 0), g2 = (0, 2): K = [[1, 0], [0, 4]];
    # a1 = (K22 - K12) / (K11 + K22 - 2 K12) = 4 / 5 = 0.8, a2 = 0.2; d = (0.8, 0.4),
    # orthogonal to g1 - g2 = (1, -2) as the min-norm point must be: 0.8 - 0.8 = 0.
    update, weights = combine(make("mgda", mode=mode), (1.0, 0.0), (0.0, 2.0), mode=mode)
    assert weights == pytest.approx([0.8, 0.2])
    assert update == pytest.approx([0.8, 0.4])


def test_mgda_picks_the_smaller_of_two_aligned_gradients() -> None:
    # g2 = 2 g1: the hull is the segment [g1, g2]; its min-norm point is g1 (a1 = 2 clipped to 1).
    update, weights = combine(make("mgda"), (1.0, 0.0), (2.0, 0.0))
    assert weights == pytest.approx([1.0, 0.0]) and update == pytest.approx([1.0, 0.0])


def test_mgda_three_orthonormal_gradients_get_equal_weights() -> None:
    # e1, e2, e3: |sum a_t e_t|^2 = sum a_t^2 on the simplex is smallest at a = 1/3 each.
    update, weights = combine(make("mgda", 3), (1, 0, 0), (0, 1, 0), (0, 0, 1))
    assert weights == pytest.approx([1 / 3] * 3, abs=1e-6)
    assert update == pytest.approx([1 / 3] * 3, abs=1e-6)


def test_mgda_l2_normalisation_weights_the_unit_gradients() -> None:
    # unit gradients (1, 0) and (0, 1) -> a = (0.5, 0.5); raw weights a_t / |g_t| = (0.5, 0.25);
    # d = 0.5 (1, 0) + 0.25 (0, 2) = (0.5, 0.5).
    update, weights = combine(make("mgda", normalize="l2"), (1.0, 0.0), (0.0, 2.0))
    assert weights == pytest.approx([0.5, 0.25]) and update == pytest.approx([0.5, 0.5])


def test_pcgrad_projects_two_conflicting_gradients() -> None:
    # g1 = (1, 0), g2 = (-1, 1), g1.g2 = -1 < 0:
    # g1' = g1 - (-1 / |g2|^2) g2 = (1, 0) + 0.5 (-1, 1) = (0.5, 0.5)   (= g1 + 0.5 g2)
    # g2' = g2 - (-1 / |g1|^2) g1 = (-1, 1) + (1, 0)   = (0, 1)       (= g1 + g2)
    # d = (0.5, 1.5), weights (1 + 1, 0.5 + 1) = (2, 1.5)
    update, weights = combine(make("pcgrad"), (1.0, 0.0), (-1.0, 1.0))
    assert update == pytest.approx([0.5, 1.5]) and weights == pytest.approx([2.0, 1.5])


def test_pcgrad_leaves_agreeing_gradients_alone() -> None:
    # g1.g2 = 1 > 0: no projection, d = g1 + g2 = (2, 1).
    update, weights = combine(make("pcgrad"), (1.0, 0.0), (1.0, 1.0))
    assert update == pytest.approx([2.0, 1.0]) and weights == pytest.approx([1.0, 1.0])


def test_cagrad_with_c_zero_is_the_mean_gradient() -> None:
    # c = 0: d = g0 = ((1, 0) + (-1, 1)) / 2 = (0, 0.5), whatever the rescaling (1 + 0^2 = 1).
    update, weights = combine(make("cagrad", c=0.0), (1.0, 0.0), (-1.0, 1.0))
    assert update == pytest.approx([0.0, 0.5]) and weights == pytest.approx([0.5, 0.5])


def test_cagrad_on_orthonormal_gradients() -> None:
    # g1 = (1, 0), g2 = (0, 1), c = 0.5: g0 = (0.5, 0.5), |g0| = 1/sqrt(2). w.b = 1/2 on the
    # simplex, so w* minimises |g_w|: w* = (0.5, 0.5), g_w = g0. d = g0 + c |g0| / |g0| g0 =
    # 1.5 g0 = (0.75, 0.75), divided by 1 + c^2 = 1.25: (0.6, 0.6).
    update, weights = combine(make("cagrad", c=0.5), (1.0, 0.0), (0.0, 1.0))
    assert update == pytest.approx([0.6, 0.6]) and weights == pytest.approx([0.6, 0.6])


@pytest.mark.parametrize("n", [2, 3])
def test_cagrad_dual_beats_every_point_of_a_grid(n: int) -> None:
    # The dual objective w.b + s sqrt(w K w) at the solver's w is no larger than on a fine grid.
    rng = np.random.default_rng(n)
    g = rng.normal(size=(n, 5))
    g[1] = -0.8 * g[0] + 0.3 * g[1]  # a conflicting pair
    k, s = g @ g.T, 0.7
    b = k.mean(axis=1)

    def objective(w: np.ndarray) -> float:
        return float(w @ b + s * np.sqrt(w @ k @ w))

    steps = np.linspace(0, 1, 201)
    grid = [np.array([t, 1 - t]) for t in steps] if n == 2 else [
        np.array([t, u, 1 - t - u]) for t in steps for u in steps if t + u <= 1
    ]  # fmt: skip
    w = cagrad_dual(k, s)
    assert w.min() >= 0 and w.sum() == pytest.approx(1)
    assert objective(w) <= min(objective(p) for p in grid) + 1e-9


def test_imtl_gives_equal_projections_on_the_unit_gradients() -> None:
    # g1 = (1, 0), g2 = (0, 2): a ~ K^-1 n = (1/1, 2/4) = (1, 0.5), normalised (2/3, 1/3);
    # d = (2/3, 2/3): d.u1 = 2/3 = d.u2 with u1 = (1, 0), u2 = (0, 1).
    update, weights = combine(make("imtl"), (1.0, 0.0), (0.0, 2.0))
    assert weights == pytest.approx([2 / 3, 1 / 3]) and update == pytest.approx([2 / 3, 2 / 3])


def test_nash_mtl_solves_the_bargaining_equations() -> None:
    # g1 = (1, 0), g2 = (0, 2): K = diag(1, 4); (K a)_t = 1 / a_t gives a_t = 1 / sqrt(K_tt):
    # a = (1, 0.5), d = (1, 1), |d| = sqrt(2) = sqrt(T). With max_norm = 1: (1, 1) / sqrt(2).
    update, weights = combine(make("nash_mtl", max_norm=0.0), (1.0, 0.0), (0.0, 2.0))
    assert weights == pytest.approx([1.0, 0.5], rel=1e-6)
    assert update == pytest.approx([1.0, 1.0], rel=1e-6)
    update, _ = combine(make("nash_mtl", max_norm=1.0), (1.0, 0.0), (0.0, 2.0))
    assert update == pytest.approx([1 / math.sqrt(2)] * 2, rel=1e-6)


def test_aligned_mtl_equalises_orthogonal_gradients() -> None:
    # g1 = (1, 0), g2 = (0, 2): K = diag(1, 4); B = sqrt(l_min) V diag(l^-1/2) V^T = diag(1, 1/2),
    # weights B 1 = (1, 0.5): the aligned gradients (1, 0) and (0, 1) have equal norms; d = (1, 1).
    update, weights = combine(make("aligned_mtl"), (1.0, 0.0), (0.0, 2.0))
    assert weights == pytest.approx([1.0, 0.5]) and update == pytest.approx([1.0, 1.0])


def test_upgrad_projects_onto_the_dual_cone() -> None:
    # g1 = (1, 0), g2 = (-1, 1). pi(g1): g1.g2 < 0, so onto g2's plane: (0.5, 0.5) = g1 + 0.5 g2;
    # pi(g2): onto g1's plane: (0, 1) = g1 + g2. Mean: (0.25, 0.75), weights (1, 0.75).
    upgrad = make("upgrad", reg_eps=1e-12)
    update, weights = combine(upgrad, (1.0, 0.0), (-1.0, 1.0))
    assert update == pytest.approx([0.25, 0.75]) and weights == pytest.approx([1.0, 0.75])
    # Agreeing gradients are their own projections: the mean, (1, 0.5).
    update, weights = combine(upgrad, (1.0, 0.0), (1.0, 1.0))
    assert update == pytest.approx([1.0, 0.5]) and weights == pytest.approx([0.5, 0.5])


def test_gradvac_raises_similarity_to_its_target_and_updates_the_target() -> None:
    # Targets start at 0. cos(g1, g2) = -1/sqrt(2) < 0 with g1 = (1, 0), g2 = (-1, 1):
    # g1 += |g1| (0 - phi * 1) / (|g2| * 1) g2 = (0.7071 / 1.4142) g2 = 0.5 g2 -> (0.5, 0.5);
    # likewise g2 += 0.5 * sqrt(2) / 1 * g1... = (1/sqrt(2)) * sqrt(2) / 1 = 1 * g1 -> (0, 1).
    # d = (0.5, 1.5) as PCGrad; each target moves halfway (beta = 0.5) to -0.7071: -0.35355.
    gradvac = make("gradvac", beta=0.5)
    update, weights = combine(gradvac, (1.0, 0.0), (-1.0, 1.0))
    assert update == pytest.approx([0.5, 1.5], rel=1e-6)
    assert weights == pytest.approx([2.0, 1.5], rel=1e-6)
    assert gradvac.targets.flatten().tolist() == pytest.approx([0, -0.35355, -0.35355, 0], abs=1e-5)


def test_graddrop_keeps_one_sign_per_coordinate() -> None:
    # g1 = (1, -1, 2), g2 = (3, -2, -2). Purity P = (1 + sum g / sum |g|) / 2 = (1, 0, 0.5):
    # coordinate 0 (both positive, P = 1 > U) and 1 (both negative, P = 0 < U) keep everything;
    # coordinate 2 keeps the positive g1 if U < 0.5, else the negative g2.
    torch.manual_seed(3)
    u = torch.rand(3)[2].item()
    torch.manual_seed(3)
    update, _ = combine(make("graddrop"), (1.0, -1.0, 2.0), (3.0, -2.0, -2.0))
    assert update == pytest.approx([4.0, -3.0, 2.0 if u < 0.5 else -2.0])


def test_db_mtl_balances_log_loss_gradients_to_the_largest_norm() -> None:
    # L = g.theta + 10 at theta = 1: g1 = (1, 0), L1 = 11; g2 = (1, 1), L2 = 12.
    # grad log L = g / L: (1/11, 0) and (1/12, 1/12); step 1 average: grad + 0.9 (0 - grad),
    # 0.1 grad: (1/110, 0) and (1/120, 1/120), norms 1/110 and sqrt(2)/120;
    # scales max / norm = (110 sqrt(2) / 120, 1) = (1.29636, 1);
    # d = 1.29636 (1/110, 0) + (1/120, 1/120) = ((1 + sqrt(2)) / 120, 1/120) = (0.020118, 0.008333).
    update, weights = combine(make("db_mtl"), (1.0, 0.0), (1.0, 1.0))
    assert weights == pytest.approx([110 * math.sqrt(2) / 120, 1.0], rel=1e-5)
    assert update == pytest.approx([(1 + math.sqrt(2)) / 120, 1 / 120], rel=1e-5)


def test_uncertainty_weights_are_exp_minus_s() -> None:
    weighting = make("uncertainty")
    with torch.no_grad():
        weighting.log_var.copy_(torch.tensor([0.5, -1.0]))
    _, weights = combine(weighting, (1.0, 0.0), (0.0, 1.0))
    assert weights == pytest.approx([math.exp(-0.5), math.exp(1.0)])


def test_dwa_weights_from_a_loss_history() -> None:
    # period 1: each step is a period. Losses (4, 1) then (2, 1): rates r = (2/4, 1/1) = (0.5, 1);
    # w = 2 softmax(r / 2) = 2 (e^0.25, e^0.5) / (e^0.25 + e^0.5) = (0.87565, 1.12435).
    dwa = make("dwa", period=1, temperature=2.0)
    assert dwa.weights(torch.tensor([4.0, 1.0])).tolist() == [1.0, 1.0]  # first two periods
    assert dwa.weights(torch.tensor([2.0, 1.0])).tolist() == [1.0, 1.0]
    e1, e2 = math.exp(0.25), math.exp(0.5)
    weights = dwa.weights(torch.tensor([3.0, 3.0]))
    assert weights.tolist() == pytest.approx([2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)])
    assert weights.tolist() == pytest.approx([0.87565, 1.12435], abs=1e-5)


def test_dwa_averages_losses_over_its_period() -> None:
    # period 2: periods' mean losses (3, 1) [from (4,1),(2,1)] and (3, 2) [(2,1),(4,3)]:
    # r = (1, 2); w = 2 softmax(r / 1) = 2 (e, e^2) / (e + e^2) = (0.53788, 1.46212).
    dwa = make("dwa", period=2, temperature=1.0)
    for losses in ([4.0, 1.0], [2.0, 1.0], [2.0, 1.0], [4.0, 3.0]):
        dwa.weights(torch.tensor(losses))
    weights = dwa.weights(torch.tensor([1.0, 1.0])).tolist()
    assert weights == pytest.approx([0.53788, 1.46212], abs=1e-5)


def test_gradnorm_moves_weights_toward_equal_relative_inverse_training_rates() -> None:
    # Orthonormal gradients (norms 1), w = (1, 1): G = (1, 1), mean 1. Initial losses (20, 20);
    # now task a's loss is 0.5 of it, b's 1.0 (a trains faster): r = (0.5, 1) / 0.75 = (2/3, 4/3).
    # alpha = 1: targets (2/3, 4/3); d loss / d w = sign(G - target) * |grad L| = (1, -1);
    # w = 2 softmax(s): dw/ds = [[.5, -.5], [-.5, .5]], so d loss / d s = (1, -1):
    # gradient descent lowers a's weight and raises b's.
    gradnorm = make("gradnorm", mode="parameters", alpha=1.0)
    theta = nn.Parameter(torch.ones(2))
    gradnorm.backward(torch.stack([theta[0] + 19, theta[1] + 19]), [theta])  # L(0) = (20, 20)
    gradnorm.logits.grad = None
    theta.grad = None
    gradnorm.backward(torch.stack([theta[0] + 9, theta[1] + 19]), [theta])  # L = (10, 20)
    assert gradnorm.logits.grad.tolist() == pytest.approx([1.0, -1.0])
    torch.optim.SGD(gradnorm.parameters(), lr=0.1).step()
    weights = gradnorm.loss_weights().tolist()
    assert weights[0] < 1 < weights[1] and sum(weights) == pytest.approx(2)


def test_famo_lowers_the_weight_of_the_task_whose_log_loss_fell_faster() -> None:
    # Logits 0: z = (0.5, 0.5). Losses (2, 1): w = (z / L) / sum(z / L) = (0.25, 0.5) / 0.75.
    # Next losses (1, 1): delta = (log 2, 0); grad = z (delta - z.delta) = (0.1733, -0.1733);
    # Adam's first step moves each logit by lr * sign(grad): (-0.025, 0.025);
    # z = softmax = (sigmoid(-0.05), sigmoid(0.05)) = (0.48750, 0.51250), and with equal losses
    # w = z.
    famo = make("famo", lr=0.025, gamma=0.0)
    assert famo.weights(torch.tensor([2.0, 1.0])).tolist() == pytest.approx([1 / 3, 2 / 3])
    weights = famo.weights(torch.tensor([1.0, 1.0])).tolist()
    assert famo.logits.tolist() == pytest.approx([-0.025, 0.025], abs=1e-6)
    assert weights == pytest.approx([0.48750, 0.51250], abs=1e-5)


def test_ple_decay_follows_gamma_to_the_period_count() -> None:
    # w0 = (2, 1), gamma = {a: 0.5} (b: 1), period 2: t = step // 2 -> (2, 1), (2, 1), (1, 1),
    # (1, 1), (0.5, 1).
    ple = make("ple_decay", weights=[2.0, 1.0], gamma={"a": 0.5}, period=2)
    seen = [ple.weights(torch.ones(2)).tolist() for _ in range(5)]
    assert seen == [[2, 1], [2, 1], [1, 1], [1, 1], [0.5, 1]]


@pytest.mark.parametrize("distribution", ["normal", "uniform", "dirichlet"])
def test_rlw_draws_positive_weights_summing_to_one(distribution: str) -> None:
    torch.manual_seed(0)
    rlw = make("rlw", 3, distribution=distribution)
    draws = torch.stack([rlw.weights(torch.ones(3)) for _ in range(2000)])
    assert (draws > 0).all() and torch.allclose(draws.sum(1), torch.ones(2000))
    assert draws.mean(0).tolist() == pytest.approx([1 / 3] * 3, abs=0.02)  # exchangeable
    assert draws.std(0).min() > 0.05  # random, not constant


def test_solvers_meet_their_optimality_conditions() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        g = rng.normal(size=(4, 6))
        k = g @ g.T
        q = rng.normal(size=4)
        x = nonneg_qp(k, q)  # KKT: x >= 0, gradient k x + q >= 0, complementary
        grad = k @ x + q
        assert x.min() >= 0 and grad.min() > -1e-9 and abs(x @ grad) < 1e-9
        a = min_norm_weights(k)  # on the simplex; KKT: (K a)_t >= a K a, equality on support
        assert a.min() >= 0 and a.sum() == pytest.approx(1)
        assert (k @ a).min() >= a @ k @ a - 1e-8
        w = nash_weights(torch.from_numpy(k)).numpy()  # (K a)_t = 1 / a_t
        assert np.allclose(k @ w, 1 / w, rtol=1e-6)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"name": "cagrad", "c": -1}, "c of 'cagrad' must be >= 0"),
        ({"name": "cagrad", "rescale": 3}, "rescale of 'cagrad' must be one of 0, 1, 2"),
        ({"name": "mgda", "normalize": "l1"}, "Did you mean 'l2'"),
        ({"name": "dwa", "temperature": 0}, "temperature of 'dwa' must be > 0"),
        ({"name": "ple_decay", "gamma": {"incme": 0.9}}, "names task 'incme'"),
        ({"name": "rlw", "distribution": "gauss"}, "normal, uniform, dirichlet"),
        ({"name": "graddrop", "leak": 2}, "leak of 'graddrop' must be in"),
        ({"name": "gradvac", "beta": -0.1}, "beta of 'gradvac' must be in"),
        ({"name": "aligned_mtl", "scale": "max"}, "min, median, rmse"),
        ({"name": "famo", "min_loss": {"x": 0}}, "names task 'x'"),
    ],
)
def test_bad_options_are_config_errors(node: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        registry.build("weighting", node, task_names=["income", "marital"], task_weights=[1, 1])
