"""The one data -> task -> evaluation contract: what tasks need is merged before data loads,
what they require is checked against what the data provides, every split of every dataset follows
one batch protocol, and building a run never changes a task."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import composed, shared
from recsys_support import prepare_tiny, tiny_frames

from mtfw import registry
from mtfw.data import Batch, DataNeeds, Negatives, merge_needs
from mtfw.data.interactions.split import assign
from mtfw.data.split import SplitError, SplitSpec
from mtfw.errors import ConfigError
from mtfw.experiment import build_experiment, check_config


def test_needs_merge_labels_strictly_and_refuse_two_samplers() -> None:
    merged = merge_needs({
        "a": DataNeeds({"y": True}), "b": DataNeeds({"y": False, "z": True}),
        "c": DataNeeds(category_window=3), "d": DataNeeds(negatives=Negatives(4)),
    })  # fmt: skip
    assert merged.labels == {"y": False, "z": True}  # missing only if every reader allows it
    assert merged.category_window == 3 and merged.negatives == Negatives(4)
    with pytest.raises(ConfigError, match=r"at most one ranking task per run.*r1 and r2"):
        merge_needs(
            {"r1": DataNeeds(negatives=Negatives(4)), "r2": DataNeeds(negatives=Negatives(2))}
        )
    with pytest.raises(ConfigError, match="category_window differently"):
        merge_needs({"i1": DataNeeds(category_window=3), "i2": DataNeeds(category_window=5)})


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["task=[ranking]", "trainer.monitor=val/ranking/ndcg@10"],
         ["task 'ranking' (ranking) needs interaction data", "data=census does not provide",
          "data sets that provide it: interactions, movielens100k"]),
        (["data=movielens100k", "task=[income]"],
         ["task 'income' (binary) needs a flat table",
          "census, drug_reviews, synthetic, synthetic_ctr, tabular"]),
        (["data=movielens100k", "task=[ranking]", "trainer.monitor=val/ranking/ndcg@10",
          "encoder=esmm"], ["encoder=esmm needs a flat table"]),
        (["history=mean"], ["history=mean needs interaction data"]),
        (["experiment=ml100k_popularity", "task=[ranking,rating]"],
         ["baseline=popularity produces rankings only", "drop task(s) rating"]),
    ],
)  # fmt: skip
def test_requires_minus_provides_is_the_whole_fit_check(overrides, expected) -> None:
    with pytest.raises(ConfigError) as err:
        check_config(composed(*overrides))  # no data is loaded for this
    for text in expected:
        assert text in str(err.value), str(err.value)


def test_every_registered_part_requires_what_some_dataset_provides() -> None:
    provided = [registry.get("data", n).provides for n in registry.names("data")]
    for kind in ("task", "encoder", "history", "baseline"):
        for name in registry.names(kind):
            requires = registry.get(kind, name).requires
            assert any(requires <= p for p in provided), f"{kind} {name} requires {requires}"


def test_split_protocols_belong_to_their_datasets() -> None:
    with pytest.raises(SplitError, match="must be random or time for this dataset"):
        registry.build("data", {"name": "census", "split": {"by": "cold_start"}})
    with pytest.raises(SplitError, match="time or user_time or random or leave_one_out or cold_s"):
        registry.build("data", {"name": "movielens100k", "split": {"by": "nonsense"}})
    with pytest.raises(SplitError, match=r"in \(0, 1\) on interaction data"):
        registry.build("data", {"name": "movielens100k", "split": {"val": 0.0}})
    with pytest.raises(SplitError, match="fractions must be in"):
        registry.build("data", {"name": "census", "split": {"val": 0.7, "test": 0.4}})
    frame = tiny_frames().interactions  # user_time is time's name on interaction data
    same = assign(SplitSpec(by="time"), frame) == assign(SplitSpec(by="user_time"), frame)
    assert same.all()


def check_protocol(split, batch_size: int, shuffles: bool = True) -> None:
    """len, take, batches (each row once, shuffled or in order) and to(device)."""
    n = len(split)
    ordered = list(split.batches(batch_size))
    assert all(isinstance(b, Batch) for b in ordered)
    assert [len(b) for b in ordered][:-1] == [batch_size] * (len(ordered) - 1)
    assert sum(len(b) for b in ordered) == n
    first = split.take(slice(0, min(batch_size, n)))
    assert len(first) == min(batch_size, n) and set(first.labels) == set(ordered[0].labels)
    assert len(split.to(torch.device("cpu"))) == n
    if shuffles:  # evaluation sets are read in order
        shuffled = list(split.batches(batch_size, torch.Generator().manual_seed(0)))
        assert sum(len(b) for b in shuffled) == n


def test_every_split_of_both_kinds_of_data_follows_one_protocol() -> None:
    interactions = prepare_tiny()
    for name in ("train", "val", "test"):
        check_protocol(interactions.splits[name], 2, shuffles=name == "train")
    census = registry.build("data", {"name": "synthetic", "n_samples": 300})
    flat = census.prepare(DataNeeds({"y1": False, "y2": False}))
    for name in ("train", "val", "test"):
        check_protocol(flat.splits[name], 64)
    batch = interactions.splits["train"].take(slice(0, 3), torch.Generator().manual_seed(0))
    assert batch.inputs.candidates.shape == (3, 3)  # the item, then 2 negatives
    assert set(batch.labels) == {"rating", "next_categories"}  # what the needs asked for


def test_building_a_run_changes_no_task() -> None:
    path = shared("samples/kuairand/kuairand_sample.csv")
    cfg = composed("data=kuairand", f"data.interactions.path={path}", "task=[ranking,interest]",
                   "trainer.monitor=val/ranking/ndcg@10")  # fmt: skip
    _, tasks, _ = check_config(cfg)
    before = {n: copy.deepcopy(vars(t)) for n, t in tasks.items()}
    exp = build_experiment(cfg)
    assert {n: vars(t) for n, t in exp.tasks.items()} == before
    assert exp.data.context.catalogue_size == len(exp.data.context.items) - 1 > 0
