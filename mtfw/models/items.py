"""The item side of a model on interaction data: every catalogue item embedded once, by id and
features, and used both in the user's history and by the heads that score items."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.data.interactions.tables import Catalogue
from mtfw.data.prepared import InputSpec
from mtfw.models.embedding import FeatureEmbedding


class ItemEmbedding(nn.Module):
    """Item index -> id embedding + a projection of the item's features (text fields
    included: an item never seen in training, whose id row is untrained, is known by them);
    0 (padding) -> 0."""

    def __init__(self, items: Catalogue, features: InputSpec, dim: int):
        super().__init__()
        self.ids = nn.Embedding(len(items), dim, padding_idx=0)
        nn.init.normal_(self.ids.weight, std=0.05)
        self.features = FeatureEmbedding(
            features.vocab_sizes, features.n_numeric, dim, text=features.text
        )
        self.project = nn.Linear(self.features.out_dim, dim) if self.features.out_dim else None
        self.register_buffer("cat", items.cat, persistent=False)  # the catalogue is data
        self.register_buffer("num", items.num, persistent=False)
        text = items.text or (torch.zeros(len(items), 0, 0, dtype=torch.long), torch.zeros(0))
        self.register_buffer("text", text[0], persistent=False)
        self.register_buffer("text_weights", text[1], persistent=False)
        self.dim = dim

    def forward(self, index: Tensor) -> Tensor:
        out = self.ids(index)
        if self.project is None:
            return out
        flat = index.flatten()
        if len(self.features.text) and flat.numel() >= len(self.cat):  # more lookups than items:
            text = (self.text, self.text_weights)  # every item's text pooled once, then gathered
            features = self.project(self.features(self.cat, self.num, text=text))[flat]
        else:
            text = (self.text[flat], self.text_weights[flat]) if len(self.features.text) else None
            features = self.project(self.features(self.cat[flat], self.num[flat], text=text))
        return out + features.reshape(out.shape) * (index > 0).unsqueeze(-1)

    def all(self) -> Tensor:
        """``[I, dim]``: every catalogue item, the padding row 0 included."""
        return self(torch.arange(self.cat.shape[0], device=self.cat.device))
