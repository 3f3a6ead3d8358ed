"""Mult-VAE / Mult-DAE and CFGAN: their math against hand computations, the KL annealing schedule,
CFGAN's masks, determinism and divergence, on the tiny dataset (recsys_support.tiny_frames)."""

from __future__ import annotations

import math

import pytest
import torch
from recsys_support import prepare_tiny

from mtfw import registry
from mtfw.baselines import mult_vae
from mtfw.baselines.cfgan import discriminator_loss, generator_loss, unpurchased_sample
from mtfw.baselines.mult_vae import annealed_beta, gaussian_kl, multinomial_nll
from mtfw.baselines.trained import BaselineDiverged
from mtfw.errors import ConfigError

SMALL_VAE = {"name": "mult_vae", "hidden": [8], "latent": 4, "batch_size": 2, "epochs": 3}
SMALL_GAN = {"name": "cfgan", "g_hidden": [8], "d_hidden": [4], "epochs": 3, "eval_every": 1}


@pytest.fixture(scope="module")
def data():
    return prepare_tiny(window=None, labels=())


def fitted(node: dict, data, validate=None, seed: int = 0):
    baseline = registry.build("baseline", node, seed=seed, task_names=["ranking"])
    baseline.fit(data, validate)
    return baseline


def test_multinomial_likelihood_by_hand() -> None:
    logits = torch.tensor([[0.0, math.log(3), 0.0], [0.0, 0.0, 0.0]])  # softmax 1/5, 3/5, 1/5
    x = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    first = -(math.log(1 / 5) + 2 * math.log(3 / 5))
    assert multinomial_nll(logits, x).item() == pytest.approx((first + math.log(3)) / 2)


def test_gaussian_kl_by_hand() -> None:
    mu, logvar = torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([[0.0, math.log(2)], [0, 0]])
    # user 1: 0.5 * [(0 + 1 + 1 - 1) + (-ln 2 + 2 + 0 - 1)]; user 2: N(0, I) itself, 0
    assert gaussian_kl(mu, logvar).item() == pytest.approx((1 - math.log(2) / 2) / 2)


def test_beta_is_annealed_linearly_then_held_at_beta_max() -> None:
    assert [annealed_beta(s, 10, 0.2) for s in (0, 1, 2, 5, 100)] == pytest.approx(
        [0, 0.1, 0.2, 0.2, 0.2]
    )
    assert annealed_beta(0, 0, 0.3) == 0.3  # no annealing: beta_max from the first update


def record(rows: list, values: list[float] | None = None):
    """A ``validate`` that records each epoch's training values and returns ``values``."""

    def validate(epoch: int, last: bool = False, **train: float) -> float:
        rows.append((epoch, train))
        return values[epoch - 1] if values else float(epoch)

    return validate


def test_training_follows_the_annealing_schedule(data) -> None:
    rows: list = []  # 4 users, 2 a batch: 2 updates an epoch; beta of the epoch's last update
    fitted({**SMALL_VAE, "total_anneal_steps": 4, "beta_max": 0.5}, data, record(rows))
    assert [train["train/vae/beta"] for _, train in rows] == [0.25, 0.5, 0.5]
    assert all(math.isfinite(train["train/vae/loss"]) for _, train in rows)


def test_anneal_by_validation_retrains_to_the_beta_of_the_best_epoch(data) -> None:
    """The first pass peaks at epoch 2 (beta 3/4 after its 4th update), the second pass stops
    annealing there; epoch 2 stays the best validated, so its state is the one kept."""
    node = {**SMALL_VAE, "anneal": "by_validation", "beta_max": 1.0, "total_anneal_steps": 4}
    model = registry.build("baseline", node, seed=0, task_names=["ranking"])
    rows, states, values = [], [], [1, 5, 2, 1, 1, 1]

    def validate(epoch: int, last: bool = False, **train: float) -> float:
        rows.append((epoch, train["train/vae/beta"]))
        states.append({k: v.clone() for k, v in model.state().items()})
        return values[epoch - 1]

    model.fit(data, validate)
    assert rows == [(1, 0.25), (2, 0.75), (3, 1.0), (4, 0.25), (5, 0.75), (6, 0.75)]
    assert all(torch.equal(v, states[1][k]) for k, v in model.state().items())


def test_mult_dae_has_no_kl_and_scores_the_catalogue(data) -> None:
    rows: list = []
    model = fitted({**SMALL_VAE, "variant": "dae"}, data, record(rows))
    assert "train/dae/loss" in rows[0][1] and "train/vae/beta" not in rows[0][1]
    val = data.splits["val"]
    assert model.eval_outputs(val.take(slice(0, len(val))))["ranking"].shape == (len(val), 7)


@pytest.mark.parametrize("node", [SMALL_VAE, SMALL_GAN], ids=["mult_vae", "cfgan"])
def test_training_is_seeded_and_bit_identical(data, node) -> None:
    a, b, c = fitted(node, data), fitted(node, data), fitted(node, data, seed=1)
    assert all(torch.equal(a.state()[k], b.state()[k]) for k in a.state())
    assert not all(torch.equal(a.state()[k], c.state()[k]) for k in a.state())


def test_folded_in_users_are_scored_from_their_known_items(data) -> None:
    model = fitted(SMALL_VAE, data)
    test = data.splits["test"]
    batch = test.take(slice(0, len(test)))
    scores = model.eval_outputs(batch)["ranking"]
    batch.inputs.known = torch.zeros_like(batch.inputs.known)  # nothing known: other scores
    assert not torch.equal(scores, model.eval_outputs(batch)["ranking"])


def test_the_samples_take_the_ratio_of_unpurchased_items_and_never_a_purchased_one() -> None:
    purchased = (torch.rand(300, 40, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    purchased[:, 0] = 0
    free = (purchased == 0).sum(1) - 1  # column 0 is the padding item
    generator = torch.Generator().manual_seed(1)
    sample = unpurchased_sample(purchased, 0.7, generator)
    assert torch.equal(sample.sum(1), (free * 0.7).floor().long())
    assert not (sample & (purchased > 0)).any() and not sample[:, 0].any()
    # uniform: each unpurchased item of user u is drawn with probability floor(0.7 n_u) / n_u
    drawn = torch.stack([unpurchased_sample(purchased, 0.7, generator) for _ in range(50)])
    free_cells = (purchased == 0) & (torch.arange(40) > 0)
    expected = ((free * 0.7).floor() / free)[:, None] * free_cells
    per_item = drawn.float().mean(0).sum(0)[1:] / expected.sum(0)[1:]  # observed / expected
    assert ((per_item > 0.95) & (per_item < 1.05)).all(), per_item


@pytest.mark.parametrize(("scheme", "shown_extra", "zeroed"), [("zr", False, True),
                         ("pm", True, False), ("zp", True, True)])  # fmt: skip
def test_each_scheme_masks_what_the_paper_says(data, scheme, shown_extra, zeroed) -> None:
    model = fitted({**SMALL_GAN, "scheme": scheme, "epochs": 1, "zr_ratio": 0.5,
                    "pm_ratio": 0.5}, data)  # fmt: skip
    shown, zero = model.masks(torch.Generator().manual_seed(0))
    purchased = model.matrix > 0
    assert (shown[purchased] == 1).all()  # D always sees G's output on the purchased items
    assert bool((shown[~purchased] > 0).any()) == shown_extra
    assert bool(zero.any()) == zeroed and not zero[purchased].any()


def test_gan_losses_by_hand() -> None:
    zero = torch.zeros(3, 1)  # D(x) = 1/2 everywhere
    assert discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert generator_loss(torch.full((2, 1), math.log(3))).item() == pytest.approx(-math.log(3 / 4))


def test_a_loss_gone_nan_stops_training_keeping_the_best_validated_state(data, monkeypatch) -> None:
    calls = {"n": 0}
    real = mult_vae.multinomial_nll

    def nan_in_epoch_two(logits, x):
        calls["n"] += 1
        return real(logits, x) * (math.nan if calls["n"] > 2 else 1.0)  # 2 updates an epoch

    monkeypatch.setattr(mult_vae, "multinomial_nll", nan_in_epoch_two)
    with pytest.raises(BaselineDiverged, match="vae loss is nan in epoch 2") as err:
        fitted(SMALL_VAE, data, record([]))
    assert "baseline.pt of epoch 1" in str(err.value) and "matrix" in err.value.kept


def test_a_gan_whose_discriminator_explodes_is_diverged(data) -> None:
    with pytest.raises(BaselineDiverged, match="baseline=cfgan") as err:
        fitted({**SMALL_GAN, "d_lr": 1e30, "g_lr": 1e30}, data, record([]))
    assert "discriminator" in str(err.value) or "generator" in str(err.value)


def test_anneal_by_validation_is_refused_for_the_dae_which_has_no_kl() -> None:
    with pytest.raises(ConfigError, match="use anneal: fixed"):
        registry.build("baseline", {"name": "mult_vae", "variant": "dae", "anneal":
                                    "by_validation"}, seed=0, task_names=["ranking"])  # fmt: skip


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"name": "mult_vae", "beta_max": 1.5}, "baseline.beta_max=1.5 is out of range"),
        ({"name": "mult_vae", "beta_max": -0.1}, "allowed [0, 1]"),
        ({"name": "mult_vae", "dropout": 1.0}, "baseline.dropout=1.0 is out of range"),
        ({"name": "mult_vae", "variant": "vea"}, "expected one of 'vae', 'dae'"),
        ({"name": "mult_vae", "anneal": "auto"}, "one of 'fixed', 'by_validation'"),
        ({"name": "mult_vae", "total_anneal_steps": -1}, "total_anneal_steps=-1 is out of range"),
        ({"name": "cfgan", "zr_ratio": 1.2}, "baseline.zr_ratio=1.2 is out of range"),
        ({"name": "cfgan", "pm_ratio": -0.5}, "baseline.pm_ratio=-0.5 is out of range"),
        ({"name": "cfgan", "scheme": "zz"}, "expected one of 'zr', 'pm', 'zp'"),
        ({"name": "cfgan", "d_steps": 0}, "baseline.d_steps=0 is out of range"),
        ({"name": "cfgan", "g_lr": 0}, "baseline.g_lr=0 is out of range"),
    ],
)
def test_out_of_range_settings_are_refused_before_anything_is_built(node, message) -> None:
    with pytest.raises(ConfigError) as err:
        registry.check("baseline", node, where="baseline")
    assert message in str(err.value)
