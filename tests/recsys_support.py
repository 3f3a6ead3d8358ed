"""Interaction data for tests: a tiny hand-made dataset, and the real MovieLens-100K (fetched
once from the package index into /tmp/mtfw-test-data, or $MTFW_TEST_ML100K)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from mtfw.data import DataNeeds, Negatives, PreparedData
from mtfw.data.interactions.frames import InteractionFrames
from mtfw.data.interactions.prepare import prepare_interactions
from mtfw.data.needs import SequenceWindows
from mtfw.data.split import SplitSpec
from mtfw.errors import DataNotFoundError, RunStopped

CACHE = Path("/tmp/mtfw-test-data")


@cache
def _ml100k() -> tuple[str, ...] | str:
    given = os.environ.get("MTFW_TEST_ML100K")
    if given:
        return (f"data.path={given}",)
    from mtfw.data.movielens import fetch_recbole_wheel

    try:
        fetch_recbole_wheel(CACHE)
    except DataNotFoundError as err:
        return f"no MovieLens-100K: set MTFW_TEST_ML100K, or let pip reach PyPI ({err})"
    return (f"data.root={CACHE}", "data.download=false")


def ml100k() -> list[str]:
    """Overrides that point data=movielens100k at the test copy; skips when there is none."""
    found = _ml100k()
    if isinstance(found, str):
        pytest.skip(found)
    return list(found)


def tiny_frames() -> InteractionFrames:
    """4 users, 6 items. u1: items 1..6 in time order; u2: 3 items; u3: 2 (train only);
    u4: 4 items. Ratings 1-5; genres A/B/C."""
    rows = [("u1", f"i{k}", k, 100 + k) for k in range(1, 7)]
    rows += [("u2", "i1", 5, 10), ("u2", "i3", 2, 20), ("u2", "i5", 4, 30)]
    rows += [("u3", "i2", 3, 1), ("u3", "i4", 4, 2)]
    rows += [("u4", "i6", 5, 7), ("u4", "i2", 1, 3), ("u4", "i4", 4, 5), ("u4", "i1", 2, 9)]
    inter = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    inter["rating"] = inter["rating"].astype("float32")
    inter.loc[inter["user"] == "u1", "rating"] = [1, 2, 3, 4, 5, 4]
    users = pd.DataFrame(
        {"age": [20.0, 30.0, 40.0, 50.0], "gender": ["F", "M", "F", "M"]},
        index=pd.Index(["u1", "u2", "u3", "u4"]),
    )
    genres = {"i1": ["A"], "i2": ["B"], "i3": ["A", "C"], "i4": ["C"], "i5": ["B"], "i6": ["A"]}
    items = pd.DataFrame({"year": [1990.0, 1991, 1992, 1993, 1994, 1995]}, index=list(genres))
    return InteractionFrames(
        inter, users, items, ["gender"], ["age"], [], ["year"], ["A", "B", "C"], genres,
        ["rating"], "tiny", "tests",
    )  # fmt: skip


def prepare_tiny(
    frames: InteractionFrames | None = None,
    split: SplitSpec | None = None,
    negatives: int = 2,
    sampler: str = "uniform",
    alpha: float = 0.75,
    window: int | None = 2,
    labels: tuple[str, ...] = ("rating",),
    history_length: int = 3,
    windows: SequenceWindows | None = None,
) -> PreparedData:
    """The tiny dataset prepared as a ranking (+ interest, + rating) run would ask."""
    needs = DataNeeds(
        labels=dict.fromkeys(labels, False),
        negatives=Negatives(negatives, sampler, alpha) if negatives else None,
        category_window=window,
        windows=windows,
    )
    return prepare_interactions(
        frames or tiny_frames(), split or SplitSpec(by="time"), needs, history_length, True
    )


class Interrupt(RunStopped):
    status = "interrupted"


def interrupted_after_first_epoch(cfg, run_dir: Path) -> Path:
    """A run of ``cfg`` in ``run_dir`` stopped, as by Ctrl-C, after its first validation."""
    from omegaconf import OmegaConf

    from mtfw.train import run

    def stop_after_first_epoch(epoch: int, row: dict, last: bool) -> None:
        if epoch == 1:
            raise Interrupt("stopped")

    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    with pytest.raises(Interrupt):
        run(cfg, run_dir, on_eval=stop_after_first_epoch)
    return run_dir
