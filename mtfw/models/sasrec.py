"""SASRec: Kang & McAuley, "Self-Attentive Sequential Recommendation" (ICDM 2018).

Item embeddings (shared with the item side of the model, as in the paper), causal self-attention
blocks (each position sees only earlier items) and the output at the most recent position.

``positions`` says how a block knows the order of the items:

- ``absolute``, the paper's: a learned vector per window position added to the items. Packed
  training windows are ``data.history_length`` long, so a target early in its window has its
  most recent item at another position than the evaluation row puts it (``min_context`` bounds
  how early).
- ``relative`` (the default): a learned attention bias per head and distance, and each block
  attends to the last ``data.history_length`` positions only. A state depends on the items before
  it, not on where they sit in the window, so every training target is computed as the
  evaluation row is; measured on MovieLens-100K (README) it trains as well as one row per
  interaction at the cost of about two positions per target. With one block a packed state is the
  per-interaction row's exactly; a deeper block reads states that themselves looked back, so
  training reaches up to ``blocks * (L - 1)`` items behind a target, the evaluation row ``L - 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import torch
from torch import Tensor, nn

from mtfw.data.needs import DataNeeds, SequenceWindows
from mtfw.errors import ConfigError
from mtfw.models.history import HistoryEncoder
from mtfw.registry import register
from mtfw.value_types import Range


class LearnedPositions(nn.Embedding):
    """Absolute positions: one learned vector per window slot, added to the item vectors; the
    attention mask is causal only (the fast attention path)."""

    causal = True

    def __init__(self, length: int, dim: int, heads: int):
        super().__init__(max(length, 1), dim)

    def add(self, x: Tensor) -> Tensor:
        return x + self.weight[: x.shape[1]]

    def mask(self, batch: int, width: int) -> Tensor:
        return nn.Transformer.generate_square_subsequent_mask(width, device=self.weight.device)


class RelativeBias(nn.Module):
    """Relative positions: ``bias[h, d]`` is added to head ``h``'s attention logit from a
    position to the one ``d`` steps earlier (``0 <= d < length``); later positions and those
    ``length`` or more steps back are masked out."""

    causal = False  # a float mask of biases: is_causal=True would drop it

    def __init__(self, length: int, dim: int, heads: int):
        super().__init__()
        self.length, self.heads = max(length, 1), heads
        self.bias = nn.Parameter(torch.zeros(heads, self.length))

    def add(self, x: Tensor) -> Tensor:
        return x

    def mask(self, batch: int, width: int) -> Tensor:
        """``[W, W]`` with one head, else ``[batch * heads, W, W]`` (as attention takes it)."""
        steps = torch.arange(width, device=self.bias.device)
        back = steps[:, None] - steps[None, :]  # how far key j lies behind query i
        seen = (back >= 0) & (back < self.length)
        bias = self.bias[:, back.clamp(0, self.length - 1)]  # [H, W, W]
        mask = torch.where(seen, bias, torch.full_like(bias, float("-inf")))
        if self.heads == 1:
            return mask[0]
        return mask.unsqueeze(0).expand(batch, -1, -1, -1).reshape(-1, width, width)


POSITIONS = {"absolute": LearnedPositions, "relative": RelativeBias}


@register("history", "sasrec")
class SASRec(HistoryEncoder):
    """Causal self-attention over the recent items, with absolute or relative positions."""

    def __init__(
        self, dim: int, length: int, blocks: int = 2, heads: int = 1, dropout: float = 0.2,
        positions: Literal["absolute", "relative"] = "relative",
        min_context: Annotated[int, Range(low=0)] | None = None,
    ):  # fmt: skip
        super().__init__(dim, length)
        self.min_context = min_context  # of the training windows (data_needs)
        self.out_dim, self.heads = dim, heads
        self.positions = POSITIONS[positions](length, dim, heads)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True, norm_first=True
            )
            for _ in range(blocks)
        )
        self.norm = nn.LayerNorm(dim)

    @classmethod
    def data_needs(cls, settings: Mapping[str, Any]) -> DataNeeds:
        """Absolute: windows of ``data.history_length`` positions, each training target seeing
        at least ``min_context`` earlier items of its window (or all its user has). Relative:
        windows in which every target sees its last ``data.history_length`` items."""
        context = settings.get("min_context")
        if settings.get("positions", "relative") == "absolute":
            return DataNeeds(windows=SequenceWindows(positional=True, context=context))
        if context is not None:
            raise ConfigError(
                f"history.min_context={context} applies to history.positions=absolute only: with "
                "relative positions every training target sees its last data.history_length "
                "items. Remove history.min_context or set history.positions=absolute"
            )
        return DataNeeds(windows=SequenceWindows(positional=False))

    def forward(self, items: Tensor, vectors: Tensor) -> Tensor:
        x, present = self.hidden(items, vectors)
        return self.norm(x[:, -1]) * present[:, -1]

    def states(self, items: Tensor, vectors: Tensor) -> Tensor:
        x, present = self.hidden(items, vectors)
        return self.norm(x) * present

    def hidden(self, items: Tensor, vectors: Tensor) -> tuple[Tensor, Tensor]:
        """Every position after the blocks ``[B, L, D]``, and which positions hold an item."""
        batch, width = items.shape
        present = (items > 0).unsqueeze(-1).float()
        x = self.dropout(self.positions.add(vectors * self.dim**0.5) * present)
        # Attention is causal only, as in the paper's code: empty positions are zero vectors, and
        # zeroed again after every block (the "timeline mask"), so no row is fully masked and
        # one mask serves the whole batch.
        mask = self.positions.mask(batch, width)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=self.positions.causal) * present
        return x, present
