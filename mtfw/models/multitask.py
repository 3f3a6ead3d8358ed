"""The whole model: feature embedding -> shared encoder -> one head per task."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from torch import Tensor, nn

from mtfw.data.columns import Columns
from mtfw.models.embedding import FeatureEmbedding, PerTaskEmbedding
from mtfw.models.encoder import Encoder


class MultiTaskModel(nn.Module):
    def __init__(
        self,
        embedding: FeatureEmbedding | PerTaskEmbedding,
        encoder: Encoder,
        heads: dict[str, nn.Module],
        aliases: dict[str, str] | None = None,
    ):
        super().__init__()
        self.embedding, self.encoder = embedding, encoder
        self.heads = nn.ModuleDict(heads)
        self.aliases = dict(aliases or {})  # task -> the task whose output it reports

    def represent(self, cat: Tensor, num: Tensor, seq: Tensor | None = None) -> dict[str, Tensor]:
        """The shared representation of each task (what representation-space weightings use)."""
        return self.encoder(self.embedding(cat, num, seq))

    def forward(self, cat: Tensor, num: Tensor, seq: Tensor | None = None) -> dict[str, Tensor]:
        """Raw head outputs (logits for binary tasks), ``{task: [B]}``."""
        reps = self.represent(cat, num, seq)
        raw = {task: head(reps[task]).squeeze(-1) for task, head in self.heads.items()}
        outputs = self.encoder.combine(raw)
        for task, source in self.aliases.items():
            outputs[task] = outputs[source]
        return outputs

    def outputs(self, batch: Columns) -> dict[str, Tensor]:
        """Raw head outputs of a batch (what the training loss and evaluation read)."""
        return self(batch.cat, batch.num, batch.seq)

    def represent_batch(self, batch: Columns) -> dict[str, Tensor]:
        return self.represent(batch.cat, batch.num, batch.seq)

    def auxiliary_losses(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        return self.encoder.auxiliary_losses(outputs)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Embedding and the encoder's shared part: what every task's gradient flows into."""
        return chain(self.embedding.shared_parameters(), self.encoder.shared_parameters())

    def shared_representation(self) -> Tensor | None:
        """The encoder's ``shared_output`` of the last forward pass (for representation mode)."""
        return self.encoder.shared_output
