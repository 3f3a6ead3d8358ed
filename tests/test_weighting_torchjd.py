"""Agreement with an independent implementation: TorchJD's weightings (Gramian in, weights out),
aggregators and scalarizers, on random task gradients. Skipped when torchjd (dev extra) is absent.

Conventions that differ are mapped explicitly: TorchJD's Aligned-MTL and UPGrad take a preference
vector (Aligned-MTL's paper sums the aligned gradients: ones), its CAGrad does not rescale
(``rescale: 0``), its uncertainty weighting keeps the 1/2 factors (twice ours)."""

from __future__ import annotations

import pytest
import torch

from mtfw import registry
from mtfw.weighting.aligned_mtl import aligned_mtl_weights
from mtfw.weighting.cagrad import cagrad_weights
from mtfw.weighting.imtl import imtl_weights
from mtfw.weighting.mgda import mgda_weights
from mtfw.weighting.pcgrad import pcgrad_weights
from mtfw.weighting.upgrad import upgrad_weights

torchjd = pytest.importorskip(
    "torchjd", reason="torchjd is not installed (dev extra: pip install -e '.[dev]')"
)
from torchjd import aggregation as jd  # noqa: E402
from torchjd import scalarization as jds  # noqa: E402

SHAPES = [(2, 7), (3, 9), (5, 12)]


def jacobian(n_tasks: int, dim: int, seed: int) -> torch.Tensor:
    """Random task gradients, float64, with some conflict (task 1 partly opposes task 0)."""
    generator = torch.Generator().manual_seed(seed)
    g = torch.randn(n_tasks, dim, generator=generator, dtype=torch.float64)
    g[1] = 0.3 * g[1] - 0.7 * g[0]
    return g


def make(name: str, n_tasks: int, **options):
    names = [f"t{i}" for i in range(n_tasks)]
    return registry.build("weighting", {"name": name, **options}, task_names=names,
                          task_weights=[1.0] * n_tasks)  # fmt: skip


@pytest.mark.parametrize(("n", "dim"), SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gramian_weightings_agree(n: int, dim: int, seed: int) -> None:
    g = jacobian(n, dim, seed)
    k = g @ g.T
    close = {"rtol": 1e-6, "atol": 1e-8}
    torch.testing.assert_close(imtl_weights(k), jd.IMTLGWeighting()(k), **close)
    ones = torch.ones(n, dtype=torch.float64)
    for scale in ("min", "rmse", "median"):
        theirs = jd.AlignedMTLWeighting(pref_vector=ones, scale_mode=scale)(k)
        torch.testing.assert_close(aligned_mtl_weights(k, scale), theirs, **close)
    torch.testing.assert_close(upgrad_weights(k), jd.UPGradWeighting()(k), rtol=1e-5, atol=1e-7)
    theirs = jd.CAGradWeighting(c=0.4)(k)  # Clarabel at its default tolerances: ~1e-4
    torch.testing.assert_close(cagrad_weights(k, 0.4, rescale=0), theirs, rtol=1e-3, atol=3e-4)
    torch.manual_seed(seed)
    mine = pcgrad_weights(k)
    torch.manual_seed(seed)
    torch.testing.assert_close(mine, jd.PCGradWeighting()(k), **close)


@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_mgda_agrees_with_frank_wolfe(n: int, dim: int) -> None:
    # TorchJD runs the paper's Frank-Wolfe solver (approximate); ours is exact, so its norm is
    # never larger and the weights agree to Frank-Wolfe's accuracy.
    k = (lambda g: g @ g.T)(jacobian(n, dim, 3))
    mine, theirs = mgda_weights(k), jd.MGDAWeighting(epsilon=1e-9, max_iters=20_000)(k)
    assert mine @ k @ mine <= theirs @ k @ theirs + 1e-12
    torch.testing.assert_close(mine, theirs, rtol=0, atol=2e-3)


@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_gradvac_agrees_over_several_steps(n: int, dim: int) -> None:
    ours, theirs = make("gradvac", n, beta=0.3), jd.GradVacWeighting(beta=0.3)
    for step in range(4):
        g = jacobian(n, dim, step)
        ours.generator.manual_seed(step)  # ours draws from the weighting's own generator
        mine, _ = ours.combine(g, torch.ones(n, dtype=g.dtype))
        torch.manual_seed(step)
        torch.testing.assert_close(mine, theirs(g @ g.T) @ g, rtol=1e-5, atol=1e-7)


@pytest.mark.filterwarnings("ignore:You are solving a parameterized problem that is not DPP")
@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_nash_mtl_agrees_with_the_convex_programs(n: int, dim: int) -> None:
    # TorchJD (like the paper's code) stops its sequence of cvxpy programs once the residual of
    # K a = 1 / a is below 1e-3; ours solves the equations to machine precision.
    g = jacobian(n, dim, 5)
    theirs = jd.NashMTL(n_tasks=n, max_norm=0.0, update_weights_every=1, optim_niter=50)(g)
    mine, _ = make("nash_mtl", n, max_norm=0.0).combine(g, torch.ones(n, dtype=g.dtype))
    torch.testing.assert_close(mine, theirs, rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("leak", [0.0, 0.3])
def test_graddrop_agrees_given_the_same_random_draws(leak: float) -> None:
    g = jacobian(3, 40, 2)
    torch.manual_seed(11)
    mine, _ = make("graddrop", 3, leak=leak).combine(g, torch.ones(3, dtype=g.dtype))
    torch.manual_seed(11)
    theirs = jd.GradDrop(leak=torch.full((3,), leak, dtype=g.dtype))(g)
    torch.testing.assert_close(mine, theirs)


def effective_weights(scalar: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    return torch.autograd.grad(scalar, values)[0]


def test_dwa_agrees_epoch_by_epoch() -> None:
    # TorchJD's DWA rolls its history at an explicit step() per epoch; ours every `period` steps.
    ours, theirs = make("dwa", 3, period=4, temperature=2.0), jds.DWA(temperature=2.0)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(4):
        for _ in range(4):
            values = (torch.rand(3, generator=generator) + 1 / (1 + epoch)).requires_grad_()
            torch.testing.assert_close(ours.weights(values.detach()),
                                       effective_weights(theirs(values), values))  # fmt: skip
        theirs.step()


def test_famo_agrees_when_fed_the_next_losses() -> None:
    # TorchJD: w_k = grad of FAMO(L_k), then update(L_{k+1}); ours folds the update into the next
    # call: weights(L_{k+1}) first steps the logits with L_k -> L_{k+1}.
    ours, theirs = make("famo", 2, lr=0.025, gamma=1e-3), jds.FAMO(2, lr=0.025, weight_decay=1e-3)
    generator = torch.Generator().manual_seed(1)
    losses = [torch.rand(2, generator=generator) * 2 + 0.1 for _ in range(6)]
    for k, loss in enumerate(losses):
        if k > 0:
            theirs.update(loss)
        values = loss.clone().requires_grad_()
        theirs_now = effective_weights(theirs(values), values)
        torch.testing.assert_close(ours.weights(loss), theirs_now, rtol=1e-5, atol=0)


def test_rlw_draws_what_torchjd_draws() -> None:
    values = torch.ones(4, requires_grad=True)
    torch.manual_seed(5)
    mine = make("rlw", 4).weights(values.detach())
    torch.manual_seed(5)
    torch.testing.assert_close(mine, effective_weights(jds.Random()(values), values))


def test_uncertainty_is_twice_torchjds_objective() -> None:
    ours, theirs = make("uncertainty", 3), jds.UW(3)
    with torch.no_grad():
        ours.log_var.copy_(torch.tensor([0.3, -0.2, 1.0]))
        theirs.log_var.copy_(ours.log_var)
    values = torch.tensor([0.5, 2.0, 1.5], requires_grad=True)
    mine = ours.objective(values, ours.weights(values))
    torch.testing.assert_close(mine, 2 * theirs(values))
