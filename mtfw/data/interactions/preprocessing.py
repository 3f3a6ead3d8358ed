"""The fitted preprocessing of interaction data: one :class:`Preprocessor` for the user features,
one for the item features; saved as ``preprocess.json`` with the run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mtfw.data.preprocess import Preprocessor


@dataclass
class RecPreprocessing:
    users: Preprocessor
    items: Preprocessor

    def to_dict(self) -> dict:
        return {"users": self.users.to_dict(), "items": self.items.to_dict()}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: Path) -> RecPreprocessing:
        state = json.loads(Path(path).read_text())
        return cls(Preprocessor.from_dict(state["users"]), Preprocessor.from_dict(state["items"]))
