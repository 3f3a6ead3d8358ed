"""The item side of a model on interaction data: every catalogue item embedded once, by id and
features, and used both in the user's history and by the heads that score items."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.data.interactions.tables import Catalogue
from mtfw.data.prepared import InputSpec
from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.latent import LatentEncoder


class ItemEmbedding(nn.Module):
    """Item index -> id embedding + a projection of the item's features (text fields
    included); 0 (padding) -> 0.

    The id vocabulary is the training items' (``Catalogue.id_rows``): an item without a training
    interaction has the unknown id row 0, a zero vector, and is represented by its features.
    With ``latent`` (``features.vae``) the item's VAE latent mean, from its features, is projected
    and added too."""

    def __init__(
        self, items: Catalogue, features: InputSpec, dim: int, latent: LatentEncoder | None = None
    ):
        super().__init__()
        self.ids = nn.Embedding(items.n_ids, dim, padding_idx=0)
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
        rows = items.id_rows if items.id_rows is not None else torch.arange(len(items))
        self.register_buffer("id_rows", rows, persistent=False)
        self.dim = dim
        self.latent = latent  # frozen (buffers); the projection is trained
        self.latent_project = nn.Linear(latent.out_dim, dim) if latent is not None else None

    def forward(self, index: Tensor) -> Tensor:
        out = self.ids(self.id_rows[index])
        if self.project is not None:
            features = self.project(self.item_features(index.flatten()))
            out = out + features.reshape(out.shape) * (index > 0).unsqueeze(-1)
        if self.latent_project is not None:  # each distinct item encoded once (histories repeat)
            unique, inverse = torch.unique(index.flatten(), return_inverse=True)
            z = self.latent_project(self.latent(self.cat[unique], self.num[unique]))[inverse]
            out = out + z.reshape(out.shape) * (index > 0).unsqueeze(-1)
        return out

    def item_features(self, flat: Tensor) -> Tensor:
        """The feature fields of the items ``flat``; with text, when there are more lookups than
        items, every item's text is pooled once and gathered (histories repeat items)."""
        if not len(self.features.text):
            return self.features(self.cat[flat], self.num[flat])
        if flat.numel() >= len(self.cat):
            return self.features(self.cat, self.num, text=(self.text, self.text_weights))[flat]
        text = (self.text[flat], self.text_weights[flat])
        return self.features(self.cat[flat], self.num[flat], text=text)

    def all(self) -> Tensor:
        """``[I, dim]``: every catalogue item, the padding row 0 included."""
        return self(torch.arange(self.cat.shape[0], device=self.cat.device))
