"""The recommendation model: user side -> shared encoder -> task heads that read items.

The shared encoder (any of ``conf/encoder/``) represents the user: the user's feature embeddings
with the history vector as one more field, then the numeric features. Items are embedded once, by
id and features, and used both in the history and by the pair heads.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import torch
from torch import Tensor, nn

from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.recsys.batch import RecBatch, UserInputs
from mtfw.recsys.history import HistoryEncoder
from mtfw.recsys.sets import Catalogue


class ItemEmbedding(nn.Module):
    """Item index -> id embedding + a projection of the item's features; 0 (padding) -> 0."""

    def __init__(self, items: Catalogue, vocab_sizes: list[int], dim: int):
        super().__init__()
        self.ids = nn.Embedding(len(items), dim, padding_idx=0)
        nn.init.normal_(self.ids.weight, std=0.05)
        self.features = FeatureEmbedding(vocab_sizes, items.num.shape[1], dim)
        self.project = nn.Linear(self.features.out_dim, dim) if self.features.out_dim else None
        self.register_buffer("cat", items.cat, persistent=False)  # the catalogue is data
        self.register_buffer("num", items.num, persistent=False)
        self.dim = dim

    def forward(self, index: Tensor) -> Tensor:
        out = self.ids(index)
        if self.project is not None:
            features = self.features(self.cat[index.flatten()], self.num[index.flatten()])
            out = out + self.project(features).reshape(out.shape) * (index > 0).unsqueeze(-1)
        return out

    def all(self) -> Tensor:
        return self(torch.arange(self.cat.shape[0], device=self.cat.device))


class UserEmbedding(nn.Module):
    """``[B, F * dim + H + N]``: categorical fields, the history vector (a field of its own when
    ``H == dim``), numeric features."""

    def __init__(self, vocab_sizes: list[int], n_numeric: int, dim: int, history: HistoryEncoder):
        super().__init__()
        self.fields = FeatureEmbedding(vocab_sizes, n_numeric, dim)
        self.history = history
        self.n_cat = len(vocab_sizes) * dim
        self.out_dim = self.fields.out_dim + history.out_dim
        extra = 1 if history.out_dim else 0
        self.layout = InputLayout(len(vocab_sizes) + extra, dim, n_numeric)

    def forward(self, users: UserInputs, items: ItemEmbedding) -> Tensor:
        x = self.fields(users.cat, users.num)
        if not self.history.out_dim:
            return x
        h = self.history(users.history, items(users.history))
        return torch.cat([x[:, : self.n_cat], h, x[:, self.n_cat :]], dim=1)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.parameters()


class PerTaskUserEmbedding(nn.Module):
    """One independent user side per task (single-task encoders): ``[B, T, d]``."""

    def __init__(self, sides: list[UserEmbedding]):
        super().__init__()
        self.sides = nn.ModuleList(sides)
        self.out_dim, self.layout = sides[0].out_dim, sides[0].layout

    def forward(self, users: UserInputs, items: ItemEmbedding) -> Tensor:
        return torch.stack([side(users, items) for side in self.sides], dim=1)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return iter(())


class RecModel(nn.Module):
    def __init__(
        self, users: nn.Module, items: ItemEmbedding, encoder: Encoder, heads: dict[str, nn.Module]
    ):
        super().__init__()
        self.users, self.items, self.encoder = users, items, encoder
        self.heads = nn.ModuleDict(heads)

    def represent_batch(self, users: UserInputs) -> dict[str, Tensor]:
        return self.encoder(self.users(users, self.items))

    def outputs(self, batch: RecBatch) -> dict[str, Tensor]:
        """Training outputs: ranking ``[B, C]`` logits of the candidates, pair tasks ``[B]``,
        interest ``[B, G]``."""
        reps = self.represent_batch(batch.user)
        return {n: head(reps[n], self.items, batch.items) for n, head in self.heads.items()}

    def auxiliary_losses(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        return self.encoder.auxiliary_losses(outputs)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """User side, item embeddings and the encoder's shared part."""
        return chain(
            self.users.shared_parameters(),
            self.items.parameters(),
            self.encoder.shared_parameters(),
        )

    def shared_representation(self) -> Tensor | None:
        return self.encoder.shared_output
