"""Mult-VAE and Mult-DAE (Liang, Krishnan, Hoffman, Jebara, "Variational Autoencoders for
Collaborative Filtering", WWW 2018).

A user is the bag of items they interacted with, ``x_u``. The encoder reads the L2-normalised
``x_u`` after input dropout and gives a Gaussian ``q(z_u | x_u)`` (mean and log-variance; tanh
layers, ``[600]`` then a 200-d latent by default); the decoder maps ``z_u`` to logits over the
catalogue whose softmax ``pi(z_u)`` is a multinomial. Training minimises, per user (mean over the
batch), the negative multinomial log-likelihood ``-sum_i x_ui log pi_i`` plus ``beta`` times
``KL(q || N(0, I))``, ``beta`` annealed linearly from 0 to ``beta_max`` over
``total_anneal_steps`` updates. ``anneal: by_validation`` is the paper's way to choose ``beta``:
a first pass anneals to ``beta_max`` (1.0 in the paper) and records ``beta`` at its best
validation; a second pass, from the same initialisation, anneals to that ``beta`` and stops
there; the kept model is the best validated of both passes. Mult-DAE (``variant: dae``) drops
the KL term and the sampling: a denoising autoencoder with the same likelihood.

Users are folded in: a user is scored from the items known at the cut (validation: the train
items; test: train + validation items), so held-out items never enter the input."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from mtfw.baselines.base import Baseline, known
from mtfw.baselines.trained import EpochSelection, dense_layers, l2, user_batches
from mtfw.data.batch import Inputs
from mtfw.errors import ConfigError
from mtfw.registry import register
from mtfw.value_types import Count, Fraction, NonNegative, Positive, Share, Steps


def multinomial_nll(logits: Tensor, x: Tensor) -> Tensor:
    """Mean over users of ``-sum_i x_ui log softmax(logits_u)_i``."""
    return -(torch.log_softmax(logits, dim=1) * x).sum(1).mean()


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """Mean over users of ``KL(N(mu, exp(logvar)) || N(0, I))``."""
    return (0.5 * (-logvar + logvar.exp() + mu.pow(2) - 1)).sum(1).mean()


def annealed_beta(step: int, total_steps: int, beta_max: float) -> float:
    """``beta`` at update ``step`` (0-based): ``min(beta_max, step / total_steps)``."""
    return beta_max if total_steps == 0 else min(beta_max, step / total_steps)


class AutoEncoder(nn.Module):
    """Encoder and decoder of Mult-VAE (``latent`` mean and log-variance) or of Mult-DAE."""

    def __init__(self, n_items: int, hidden: list[int], latent: int, variational: bool):
        super().__init__()
        self.variational, self.latent = variational, latent
        out = 2 * latent if variational else latent
        self.encoder = dense_layers([n_items, *hidden, out], nn.Tanh)
        self.decoder = dense_layers([latent, *hidden[::-1], n_items], nn.Tanh)
        if not variational:  # Mult-DAE: tanh between every layer, the code layer too
            self.encoder.append(nn.Tanh())

    def encode(self, x: Tensor, keep: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(mean, log-variance) of q(z | x) (no variance for the DAE); ``keep``: the dropout
        mask over the input, scaled by 1 / (1 - dropout)."""
        h = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
        h = h if keep is None else h * keep
        out = self.encoder(h)
        if not self.variational:
            return out, None
        return out[:, : self.latent], out[:, self.latent :]


@register("baseline", "mult_vae")
class MultVAE(Baseline):
    """Mult-VAE / Mult-DAE: an autoencoder of each user's items, multinomial likelihood.

    KL annealed to beta_max (or chosen by validation); epochs selected on validation."""

    def __init__(
        self,
        seed: int = 0,
        task_names: list[str] = (),
        variant: Literal["vae", "dae"] = "vae",
        hidden: list[Count] = (600,),
        latent: Count = 200,
        dropout: Fraction = 0.5,
        beta_max: Share = 0.2,
        total_anneal_steps: Steps = 200_000,
        anneal: Literal["fixed", "by_validation"] = "fixed",
        epochs: Count = 200,
        lr: Positive = 1e-3,
        reg: NonNegative = 0.0,
        batch_size: Count = 500,
        patience: Count = 20,
    ):
        super().__init__(seed, task_names)
        if anneal == "by_validation" and variant == "dae":
            raise ConfigError("baseline.anneal=by_validation chooses the KL weight of Mult-VAE; "
                              "Mult-DAE (variant: dae) has none: use anneal: fixed")  # fmt: skip
        self.variant, self.hidden, self.latent = variant, list(hidden), latent
        self.dropout, self.beta_max, self.anneal = dropout, beta_max, anneal
        self.total_anneal_steps, self.epochs, self.lr = total_anneal_steps, epochs, lr
        self.reg, self.batch_size, self.patience = reg, batch_size, patience
        self.net: AutoEncoder | None = None  # built by fit, or by load_state from baseline.pt

    def network(self, n_items: int) -> AutoEncoder:
        return AutoEncoder(n_items, self.hidden, self.latent, self.variant == "vae")

    def fit(self, data, validate=None) -> None:
        super().fit(data, validate)
        torch.manual_seed(self.seed)
        self.net = self.network(self.n_items)
        initial = {k: v.clone() for k, v in self.net.state_dict().items()}
        passes = 2 if self.anneal == "by_validation" else 1
        selection = EpochSelection(self.registry_name, self.state, validate,
                                   passes * self.epochs, self.patience)  # fmt: skip
        cap = self.train_pass(initial, selection, self.beta_max, first_epoch=1)
        if passes == 2:  # the second pass, from the same start, anneals to the beta found
            selection.bad = 0
            self.train_pass(initial, selection, cap, first_epoch=self.epochs + 1)
        self.load_state(selection.kept)

    def train_pass(self, initial: dict, selection: EpochSelection, beta_max: float,
                   first_epoch: int) -> float:  # fmt: skip
        """Train from ``initial`` for ``epochs``; returns ``beta`` at the best validated epoch."""
        self.net.load_state_dict(initial)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        users = torch.nonzero(self.matrix.sum(1) > 0)[:, 0]  # users with training items
        noise = torch.Generator().manual_seed(self.seed * 7_919 + first_epoch)
        step, best_beta, best_seen = 0, beta_max, selection.best
        for epoch in range(first_epoch, first_epoch + self.epochs):
            order = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            total, batches = 0.0, 0
            for rows in user_batches(users, self.batch_size, order):
                beta = annealed_beta(step, self.total_anneal_steps, beta_max)
                loss = self.loss(self.matrix[rows], beta, noise)
                selection.check_loss(self.variant, loss, epoch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step, total, batches = step + 1, total + float(loss.detach()), batches + 1
            selection.check_parameters({"autoencoder": self.net}, epoch)
            losses = {f"train/{self.variant}/loss": total / max(batches, 1)}
            if self.variant == "vae":
                losses["train/vae/beta"] = beta
            stop = selection.after_epoch(epoch, **losses)
            if selection.best is not None and selection.best != best_seen:
                best_beta, best_seen = beta, selection.best
            if stop:
                break
        return best_beta

    def loss(self, x: Tensor, beta: float, noise: torch.Generator) -> Tensor:
        keep = (torch.rand(x.shape, generator=noise) >= self.dropout) / (1 - self.dropout)
        mu, logvar = self.net.encode(x, keep)
        if logvar is None:  # Mult-DAE
            return multinomial_nll(self.net.decoder(mu), x) + self.penalty()
        z = mu + torch.randn(mu.shape, generator=noise) * (0.5 * logvar).exp()
        nll = multinomial_nll(self.net.decoder(z), x)
        return nll + beta * gaussian_kl(mu, logvar) + self.penalty()

    def penalty(self) -> Tensor | float:
        """``reg`` x the squared weight matrices (the paper's code: L2 on weights, not biases)."""
        return self.reg * l2(self.net, weights_only=True) if self.reg else 0.0

    def state(self) -> dict[str, Tensor]:
        weights = {f"net.{k}": v.detach().clone() for k, v in self.net.state_dict().items()}
        return {"matrix": self.matrix, **weights}

    def load_state(self, state: dict[str, Tensor]) -> None:
        self.matrix, self.n_items = state["matrix"], state["matrix"].shape[1]
        if self.net is None:  # a fitted model reloaded from baseline.pt
            self.net = self.network(self.n_items)
        self.net.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("net.")})

    @torch.no_grad()
    def score(self, inputs: Inputs) -> Tensor:
        mu, _ = self.net.encode(known(inputs))  # folded in from the known items; z = the mean
        return self.net.decoder(mu)
