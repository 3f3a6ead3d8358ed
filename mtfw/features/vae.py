"""VAE latent features: fitted on the training split before the multi-task model trains.

For each side (users, items) a VAE reads an entity's features (one-hot categorical codes and
numeric values, as the model gets them) beside its training interaction vector (the trained
items a user interacted with; the training users an item was interacted with), L2-normalised
with input dropout, and reconstructs the interaction vector (multinomial likelihood, Liang et al.
2018) with ``beta`` x KL. In every batch the interaction part of a ``mask`` share of the rows is
zeroed, so the encoder learns where an entity's features alone place it. What the multi-task
model gets is that features-only mean for *every* user and item, warm or cold: the same input in
training as for an entity with no interactions (no train/test mismatch), and no leak of the
training targets, which are among a warm entity's own interactions (``LatentEncoder``).

Seeded (``seed``, in a forked RNG, so the model's own initialisation is the one it would have
without the VAE) and bit-identical on the same machine. The text-features hook:
``entity_features`` is where further per-entity vectors (item text embeddings) join the
feature input, as more columns of ``num``."""

from __future__ import annotations

import logging
import math
import time
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtfw.data.prepared import PreparedData
from mtfw.errors import ConfigError, TrainingDiverged
from mtfw.features.settings import VaeFeatures
from mtfw.models.latent import LatentEncoder

log = logging.getLogger("mtfw")


class FeatureVae(nn.Module):
    """Encoder ``[features, interactions] -> (mu, logvar)``, decoder ``z -> interaction logits``."""

    def __init__(self, n_features: int, n_interactions: int, hidden: list[int], latent: int):
        super().__init__()
        sizes = [n_features + n_interactions, *hidden]
        self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.head = nn.Linear(sizes[-1], 2 * latent)
        back = [latent, *reversed(hidden), n_interactions]
        self.decoder = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(back))
        self.latent = latent

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        for layer in self.encoder:
            x = torch.tanh(layer(x))
        out = self.head(x)
        return out[:, : self.latent], out[:, self.latent :]

    def decode(self, z: Tensor) -> Tensor:
        for i, layer in enumerate(self.decoder):
            z = layer(z) if i == len(self.decoder) - 1 else torch.tanh(layer(z))
        return z

    def mean_layers(self) -> list[tuple[Tensor, Tensor]]:
        """The encoder's layers up to the mean (the rows of the head that give ``mu``)."""
        layers = [(layer.weight, layer.bias) for layer in self.encoder]
        head = (self.head.weight[: self.latent], self.head.bias[: self.latent])
        return [*layers, head]


def entity_features(data: PreparedData, side: str) -> tuple[list[int], list[int], Tensor, Tensor]:
    """(the categorical columns the VAE reads, their vocabulary sizes, and the side's ``cat`` and
    ``num`` rows: every user or catalogue row, row 0 included)."""
    context = data.context
    if side == "user":
        spec, cat, num = context.inputs, context.users.cat, context.users.num
        names = spec.names[: len(spec.vocab_sizes)]
        columns = [i for i, n in enumerate(names) if n != "user_id"]  # an id is not a feature
    else:
        spec, cat, num = context.item_inputs, context.items.cat, context.items.num
        columns = list(range(len(spec.vocab_sizes)))
    vocab = [spec.vocab_sizes[i] for i in columns]
    if not columns and spec.n_numeric == 0:
        raise ConfigError(
            f"features.vae asks for {side} latent features, but the {side}s of this data have no "
            f"features, so a VAE cannot place a {side} without interactions anywhere; declare "
            f"{side} feature columns in the data config or choose features.vae.side="
            f"{'item' if side == 'user' else 'user'}"
        )
    return columns, vocab, cat, num


def interaction_matrix(data: PreparedData, side: str) -> tuple[Tensor, Tensor]:
    """(the rows of the side's entities with a training interaction, their ``[N, M]`` 0/1
    interaction vectors over the other side's trained entities)."""
    train = data.splits["train"]
    uid, rows = train.uid.cpu(), data.context.items.id_rows[train.item.cpu()]
    users, user_col = torch.unique(uid, return_inverse=True)
    if side == "user":
        matrix = torch.zeros(len(users), int(rows.max()))
        matrix[user_col, rows - 1] = 1.0
        return users, matrix
    item_rows = torch.unique(train.item.cpu())
    matrix = torch.zeros(len(item_rows), len(users))
    matrix[torch.searchsorted(item_rows, train.item.cpu()), user_col] = 1.0
    return item_rows, matrix


def fit_side(data: PreparedData, side: str, settings: VaeFeatures, fit: bool) -> LatentEncoder:
    """Fit the side's VAE on the training split; the frozen features-only encoder of its mean
    (without ``fit``, the encoder's shape only, for a run's saved weights to fill)."""
    columns, vocab, cat, num = entity_features(data, side)
    sizes = [sum(vocab) + num.shape[1], *settings.hidden, settings.latent]
    encoder = LatentEncoder(columns, vocab, num.shape[1], sizes)
    if not fit:
        return encoder
    rows, inter = interaction_matrix(data, side)
    features = encoder.features(cat[rows], num[rows])
    started, generator = time.perf_counter(), torch.Generator().manual_seed(settings.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        vae = FeatureVae(features.shape[1], inter.shape[1], settings.hidden, settings.latent)
    optimizer = torch.optim.Adam(vae.parameters(), lr=settings.lr)
    normalised = inter / inter.norm(dim=1, keepdim=True).clamp(min=1e-12)
    losses = []
    for _ in range(settings.epochs):
        total = 0.0
        order = torch.randperm(len(rows), generator=generator)
        for batch in order.split(settings.batch_size):
            x = normalised[batch]  # input dropout, drawn from the VAE's own generator
            x = x * (torch.rand(x.shape, generator=generator) >= settings.dropout)
            x = x / (1 - settings.dropout)
            masked = torch.rand(len(batch), 1, generator=generator) < settings.mask
            x = torch.where(masked, torch.zeros_like(x), x)
            mu, logvar = vae.encode(torch.cat([features[batch], x], dim=1))
            noise = torch.randn(mu.shape, generator=generator)
            logits = vae.decode(mu + noise * torch.exp(0.5 * logvar))
            nll = -(F.log_softmax(logits, dim=1) * inter[batch]).sum(1).mean()
            kl = 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum(1).mean()
            loss = nll + settings.beta * kl
            if not math.isfinite(loss.item()):
                raise TrainingDiverged(f"features.vae ({side}s): the VAE loss became "
                                       f"{loss.item()}; lower features.vae.lr")  # fmt: skip
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(rows))
    encoder.load_layers(vae.mean_layers())
    log.info("features.vae (%ss): %d %ss x (%d features + %d interactions) -> latent %d, %d "
             "epochs, loss %.4f -> %.4f, %.1f s", side, len(rows), side, sizes[0], inter.shape[1],
             settings.latent, settings.epochs, losses[0], losses[-1],
             time.perf_counter() - started)  # fmt: skip
    data.info[f"features/vae_{side}_loss"] = losses[-1]
    return encoder


def fit_latent_features(settings: VaeFeatures | None, data: PreparedData, fit: bool = True) -> dict:
    """``{side: LatentEncoder}`` for the sides asked for (empty when ``features.vae`` is off);
    ``fit=False`` when a run's ``best.pt`` will load the fitted encoders (``mtfw recommend``)."""
    if settings is None:
        return {}
    if data.context.items is None:
        raise ConfigError("features.vae needs interaction data (users, items, interactions)")
    return {side: fit_side(data, side, settings, fit) for side in settings.sides}
