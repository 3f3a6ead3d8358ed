"""The cold-start items split: a seeded share of items held out with all their interactions,
never seen in training (not as negatives, not by id), and ranked among themselves."""

from __future__ import annotations

import pytest
import torch
from recsys_support import prepare_tiny, tiny_frames

from mtfw.data.interactions.split import assign
from mtfw.data.split import SplitError, SplitSpec

ITEMS = SplitSpec(by="cold_start_items", val=0.2, test=0.2, seed=1)


def items_of(data, name: str) -> set[int]:
    return set(data.splits[name].pair_item.tolist())


def test_held_out_items_never_reach_training() -> None:
    data = prepare_tiny(split=ITEMS, negatives=20)
    train = data.splits["train"]
    val, test = items_of(data, "val"), items_of(data, "test")
    assert val and test and not val & test
    assert not (val | test) & set(train.item.tolist())
    assert not (val | test) & set(train.history.flatten().tolist())
    negatives = train.take(slice(0, len(train)), torch.Generator().manual_seed(0)).inputs.candidates
    assert not (val | test) & set(negatives.flatten().tolist())
    rows = data.context.items.id_rows  # held-out items have the unknown id
    assert all(rows[i] == 0 for i in val | test) and (rows > 0).sum() == 6 - len(val | test)


def test_every_interaction_of_a_held_out_item_is_held_out() -> None:
    frames = tiny_frames()
    part = assign(ITEMS, frames.interactions)
    by_item = frames.interactions.assign(part=part).groupby("item")["part"].nunique()
    assert (by_item == 1).all()
    assert set(part) == {"train", "val", "test"}
    again = assign(ITEMS, frames.interactions)
    assert (again == part).all()  # seeded
    assert (assign(SplitSpec(by="cold_start_items", val=0.2, test=0.2, seed=4),
                   frames.interactions) != part).any()  # fmt: skip


def test_evaluation_ranks_the_held_out_items_of_its_split_only() -> None:
    data = prepare_tiny(split=ITEMS)
    test = data.splits["test"]
    held = items_of(data, "test")
    batch = test.take(slice(0, len(test)))
    ranked = ~batch.labels["unranked"]
    assert all(set(r.nonzero().flatten().tolist()) == held for r in ranked)
    assert (batch.labels["next_items"].sum(1) >= 1).all()  # a user per held-out interaction
    frame = data.context.interactions
    assert set(test.users.uid.tolist()) == set(frame[frame["item"].isin(held)]["uid"])


@pytest.mark.parametrize("fold", [0, 1, 2])
def test_item_folds_hold_out_each_item_once(fold: int) -> None:
    spec = SplitSpec(by="cold_start_items", folds=3, fold=fold, val=0.5, seed=0)
    data = prepare_tiny(split=spec)
    assert not items_of(data, "test") & set(data.splits["train"].item.tolist())


def test_item_folds_cover_every_item_exactly_once() -> None:
    frames = tiny_frames()
    tested = []
    for fold in range(3):
        spec = SplitSpec(by="cold_start_items", folds=3, fold=fold, val=0.5, seed=0)
        part = assign(spec, frames.interactions)
        tested += sorted(set(frames.interactions["item"][part == "test"]))
    assert sorted(tested) == sorted(frames.interactions["item"].unique())


def test_a_split_without_held_out_items_is_refused() -> None:
    with pytest.raises(SplitError, match="leaves the val and test split without items"):
        assign(SplitSpec(by="cold_start_items", val=0.01, test=0.01), tiny_frames().interactions)
    with pytest.raises(SplitError, match="leaves the test split without users"):
        assign(SplitSpec(by="cold_start", val=0.3, test=0.01), tiny_frames().interactions)
