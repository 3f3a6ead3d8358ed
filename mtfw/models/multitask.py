"""The one model shape: input module -> shared encoder -> one head per task.

On a flat table the input module embeds a sample's fields; on interaction data it embeds a user's
fields and history, and the model also holds the item side (``items``), which the history and the
item-scoring heads read. The training loop, the weightings and the evaluation see only
``outputs``, ``eval_outputs``, ``shared_parameters``, ``shared_representation`` and
``auxiliary_losses``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import torch
from torch import Tensor, nn

from mtfw.data.batch import Batch, Inputs, Split
from mtfw.models.encoder import Encoder
from mtfw.models.heads import Head
from mtfw.models.inputs import InputEmbedding, PerTaskInputs
from mtfw.models.items import ItemEmbedding


class MultiTaskModel(nn.Module):
    def __init__(
        self,
        inputs: InputEmbedding | PerTaskInputs,
        encoder: Encoder,
        heads: dict[str, Head],
        aliases: dict[str, str] | None = None,
        items: ItemEmbedding | None = None,
    ):
        super().__init__()
        self.inputs = inputs
        self.items = items  # registered before the encoder: parameter order as it always was
        self.encoder = encoder
        self.heads = nn.ModuleDict(heads)
        self.aliases = dict(aliases or {})  # task -> the task whose output it reports

    def represent(self, inputs: Inputs) -> dict[str, Tensor]:
        """The shared representation of each task (what representation-space weightings use)."""
        return self.encoder(self.inputs(inputs, self.items))

    def _heads(self, batch: Batch, evaluate: bool, only: list[str] | None) -> dict[str, Tensor]:
        reps = self.represent(batch.inputs)
        raw = {
            task: (head.evaluate if evaluate else head)(reps[task], batch.inputs, self.items)
            for task, head in self.heads.items()
            if only is None or task in only
        }
        outputs = self.encoder.combine(raw)
        for task, source in self.aliases.items():
            if source in outputs:
                outputs[task] = outputs[source]
        return outputs

    def outputs(self, batch: Batch) -> dict[str, Tensor]:
        """Training outputs of a batch, ``{task: tensor}`` (logits for binary tasks)."""
        return self._heads(batch, evaluate=False, only=None)

    def eval_outputs(self, batch: Batch, only: list[str] | None = None) -> dict[str, Tensor]:
        """What each task's evaluation collects (e.g. scores of the whole catalogue); ``only``
        restricts the heads computed (``mtfw recommend`` needs the ranking head alone)."""
        return self._heads(batch, evaluate=True, only=only)

    @torch.no_grad()
    def item_vectors(self) -> Tensor | None:
        """``[I + 1, D]``: every catalogue item as the model represents it (id embedding plus
        projected features); None on flat data. Beyond-accuracy metrics measure diversity by it."""
        return None if self.items is None else self.items.all()

    def auxiliary_losses(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        return self.encoder.auxiliary_losses(outputs)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Input module, item side and the encoder's shared part: what every task's gradient
        flows into."""
        items = self.items.parameters() if self.items is not None else iter(())
        return chain(self.inputs.shared_parameters(), items, self.encoder.shared_parameters())

    def shared_representation(self) -> Tensor | None:
        """The encoder's ``shared_output`` of the last forward pass (for representation mode)."""
        return self.encoder.shared_output

    @torch.no_grad()
    def gate_utilisation(self, split: Split, batch_size: int) -> dict[str, float]:
        """Mean gate weight per task and expert over a split (``gate/<task>/<expert>``); empty
        for encoders without gates. Reports plot these as expert-utilisation heatmaps."""
        sums: dict[str, Tensor] = {}
        for batch in split.batches(batch_size):
            self.represent(batch.inputs)
            for task, gates in (self.encoder.last_gates or {}).items():
                sums[task] = sums.get(task, 0) + gates.double().sum(0).cpu()
        return {
            f"gate/{task}/{e}": float(v) / len(split)
            for task, total in sums.items()
            for e, v in enumerate(total)
        }
