"""The base of interaction datasets (``data`` kind): users, items and their interactions, split
by time within each user, by user or by item (cold start). ``prepare`` builds the training and
evaluation sets the tasks need (see ``prepare.py``)."""

from __future__ import annotations

from typing import ClassVar

from mtfw.data.dataset import Dataset
from mtfw.data.interactions.frames import InteractionFrames
from mtfw.data.interactions.prepare import prepare_interactions
from mtfw.data.interactions.windows import geometry
from mtfw.data.needs import DataNeeds
from mtfw.data.prepared import PreparedData
from mtfw.data.split import SplitError
from mtfw.data.text.columns import TextColumns
from mtfw.errors import ConfigError


class InteractionDataset(Dataset):
    """``history_length``: recent items the model may see per user; ``user_id_feature``: the user
    id is an input feature (off for cold-start studies, where it is never known)."""

    provides: ClassVar[frozenset[str]] = frozenset({"users", "items", "interactions"})
    split_protocols: ClassVar[tuple[str, ...]] = (
        "time",
        "user_time",
        "random",
        "leave_one_out",
        "cold_start",
        "cold_start_items",
    )
    default_split: ClassVar[str] = "time"

    def __init__(
        self, split: dict | None = None, history_length: int = 50, user_id_feature: bool = True
    ):
        super().__init__(split)
        if not (self.split.val > 0 and self.split.test > 0):
            raise SplitError(
                f"data.split fractions must be in (0, 1) on interaction data, which holds out "
                f"part of every user: val={self.split.val}, test={self.split.test}"
            )
        taken = [k for k in ("stratify", "group") if getattr(self.split, k) is not None]
        if taken:
            raise SplitError(
                f"data.split.{taken[0]} applies to flat tables; on interaction data the folds "
                "are per user already (by=random: each user's interactions; by=cold_start: "
                f"whole users): unset data.split.{taken[0]}"
            )
        if history_length < 0:
            raise ConfigError(f"data.history_length must be >= 0, got {history_length}")
        self.history_length, self.user_id_feature = history_length, user_id_feature
        self.text: dict[str, TextColumns] = {}  # "items" / "users": their text columns

    def load_frames(self) -> InteractionFrames:
        raise NotImplementedError

    def prepare(self, needs: DataNeeds) -> PreparedData:
        if needs.windows is not None and self.history_length:  # fails before the data loads
            geometry(needs.windows, self.history_length)
        return prepare_interactions(
            self.load_frames(),
            self.split,
            needs,
            self.history_length,
            self.user_id_feature,
            self.text,
        )
