"""The base of interaction datasets (``data`` kind): users, items, interactions, split by time
or by user. ``prepare`` returns the training and evaluation sets (see ``prepare.py``)."""

from __future__ import annotations

from mtfw.errors import ConfigError
from mtfw.recsys.frames import InteractionFrames
from mtfw.recsys.prepare import RecData, prepare_interactions
from mtfw.recsys.split import InteractionSplit


class InteractionDataset:
    """``history_length``: recent items the model may see per user; ``user_id_feature``: the user
    id is an input feature (off for cold-start studies, where it is never known)."""

    interactions = True

    def __init__(
        self, split: dict | None = None, history_length: int = 50, user_id_feature: bool = True
    ):
        self.split = InteractionSplit.from_config(split)
        if history_length < 0:
            raise ConfigError(f"data.history_length must be >= 0, got {history_length}")
        self.history_length, self.user_id_feature = history_length, user_id_feature

    def load_frames(self) -> InteractionFrames:
        raise NotImplementedError

    def prepare(
        self,
        labels: list[str],
        negatives: int = 0,
        sampler: str = "uniform",
        alpha: float = 0.75,
        interest_window: int = 5,
    ) -> RecData:
        return prepare_interactions(
            self.load_frames(),
            self.split,
            history_length=self.history_length,
            user_id_feature=self.user_id_feature,
            negatives=negatives,
            sampler=sampler,
            popularity_alpha=alpha,
            interest_window=interest_window,
            labels=labels,
        )
