"""The model's input module: a batch's :class:`~mtfw.data.batch.Inputs` -> one dense vector per
row, the input of the shared encoder.

One module serves flat tables and interaction data: the row's categorical fields (and the pooled
token sequences of a flat table), then on interaction data the user's history encoded over the
item embeddings (a field of its own), then the VAE latent features of the user when the run has
them (``features.vae``: a projected field of its own), then the numeric features."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from mtfw.data.batch import Inputs
from mtfw.data.prepared import InputSpec
from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.history import HistoryEncoder
from mtfw.models.items import ItemEmbedding
from mtfw.models.latent import LatentEncoder
from mtfw.models.layout import InputLayout


class InputEmbedding(nn.Module):
    """``[B, (F + H) * dim + N]``: field embeddings, the history vector (a field of its own when
    the history encoder gives one), the VAE latent field (``features.vae``), numeric features."""

    def __init__(
        self, spec: InputSpec, dim: int, history: HistoryEncoder,
        latent: LatentEncoder | None = None,
    ):  # fmt: skip
        super().__init__()
        self.history = history  # built first: the random initialisation follows this order
        self.fields = FeatureEmbedding(
            spec.vocab_sizes, spec.n_numeric, dim, spec.sequence_vocab_sizes, spec.text
        )
        self.n_field_dims = self.fields.n_fields * dim
        self.latent = latent  # frozen (buffers); its projection into a field is trained
        self.latent_project = nn.Linear(latent.out_dim, dim) if latent is not None else None
        self.out_dim = self.fields.out_dim + history.out_dim + (dim if latent is not None else 0)
        extra = (1 if history.out_dim else 0) + (1 if latent is not None else 0)
        self.layout = InputLayout(self.fields.n_fields + extra, dim, spec.n_numeric)
        self.names = list(spec.names)

    def field_slices(self) -> list[tuple[str, slice]]:
        """Each input field's name and its columns in this module's output, in the layout's
        order: the embedded fields (categorical, sequence, then the history vector), then one
        column per numeric feature. Unnamed fields (a spec without names) are ``field<i>``."""
        layout, n_embedded = self.layout, self.fields.n_fields
        names = self.names if len(self.names) == n_embedded + layout.n_numeric else [
            f"field{i}" for i in range(n_embedded + layout.n_numeric)
        ]  # fmt: skip
        extra = ["history"] if self.history.out_dim else []
        extra += ["vae"] if self.latent is not None else []
        embedded = [*names[:n_embedded], *extra]
        slices = [(n, slice(i * layout.dim, (i + 1) * layout.dim)) for i, n in enumerate(embedded)]
        start = layout.n_fields * layout.dim
        numeric = names[n_embedded:]
        return slices + [(n, slice(start + i, start + i + 1)) for i, n in enumerate(numeric)]

    def forward(self, inputs: Inputs, items: ItemEmbedding | None = None) -> Tensor:
        text = None if inputs.text is None else (inputs.text, inputs.text_weights)
        x = self.fields(inputs.cat, inputs.num, inputs.seq, text)
        if not self.history.out_dim and self.latent is None:
            return x
        parts = [x[:, : self.n_field_dims]]
        if self.history.out_dim:
            parts.append(self.history_states(inputs, items))
        if self.latent is not None:
            parts.append(self.latent_project(self.latent(inputs.cat, inputs.num)))
        return torch.cat([*parts, x[:, self.n_field_dims :]], dim=1)

    def history_states(self, inputs: Inputs, items: ItemEmbedding) -> Tensor:
        """The user state of each row: its history row encoded, or under packed training the
        encoder run once per window and each row's position read from it."""
        vectors = items(inputs.history)
        if inputs.history_at is None:  # one history row per batch row
            return self.history(inputs.history, vectors)
        states = self.history.states(inputs.history, vectors)
        return states.reshape(-1, states.shape[-1])[inputs.history_at]

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.parameters()


class PerTaskInputs(nn.Module):
    """One independent input module per task (single-task encoders share nothing): ``[B, T, d]``."""

    def __init__(self, inputs: list[InputEmbedding]):
        super().__init__()
        self.tables = nn.ModuleList(inputs)
        self.out_dim, self.layout = inputs[0].out_dim, inputs[0].layout

    def field_slices(self) -> list[tuple[str, slice]]:
        """Every task's table has the same fields, at the same columns of the last dimension."""
        return self.tables[0].field_slices()

    def forward(self, inputs: Inputs, items: ItemEmbedding | None = None) -> Tensor:
        return torch.stack([table(inputs, items) for table in self.tables], dim=1)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return iter(())  # nothing is shared
