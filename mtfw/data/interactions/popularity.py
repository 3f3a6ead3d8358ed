"""How popular each catalogue item is in the training interactions: what novelty and the long
tail are measured against (never the held-out interactions)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ItemPopularity:
    users: Tensor  # [I + 1]: distinct training users who interacted with each item
    interactions: Tensor  # [I + 1]: training interactions of each item
    n_users: int  # users with at least one training interaction

    @classmethod
    def of(cls, uid: Tensor, item: Tensor, n_items: int) -> ItemPopularity:
        """From the training interactions' user and item indices; ``n_items`` counts the padding
        row 0, as the catalogue does."""
        pairs = torch.unique(uid.long() * n_items + item.long())
        return cls(
            users=torch.bincount(pairs % n_items, minlength=n_items),
            interactions=torch.bincount(item.long(), minlength=n_items),
            n_users=int(torch.unique(uid).numel()),
        )
