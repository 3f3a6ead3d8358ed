"""Splits, histories, labels and negatives of interaction data, on a dataset small enough to
work out by hand, and the leakage guard on the real MovieLens-100K."""

from __future__ import annotations

import pytest
import torch
from recsys_support import ml100k, prepare_tiny, tiny_frames

from mtfw.data import DataNeeds, Negatives
from mtfw.data.interactions.prepare import prepare_interactions
from mtfw.data.interactions.split import assign
from mtfw.data.split import SplitSpec

TIME = SplitSpec(by="time")


def tiny(split: SplitSpec | None = None, **changes):
    return prepare_tiny(split=split, **changes)


def rows_of(sparse, row: int) -> list[int]:
    return sparse.items[sparse.indptr[row] : sparse.indptr[row + 1]].sort().values.tolist()


def test_time_split_holds_out_each_users_last_interactions() -> None:
    part = assign(TIME, tiny_frames().interactions)
    frame = tiny_frames().interactions.assign(part=part)
    got = {(u, i): p for u, i, p in zip(frame["user"], frame["item"], frame["part"], strict=True)}
    assert got[("u1", "i6")] == "test" and got[("u1", "i5")] == "val"
    assert got[("u4", "i1")] == "test" and got[("u4", "i6")] == "val"  # by time, not file order
    assert {got[("u3", "i2")], got[("u3", "i4")]} == {"train"}  # too few to hold out
    assert sorted(part.tolist()).count("train") == 9


def test_training_rows_see_only_earlier_items_of_the_same_user() -> None:
    train = tiny().splits["train"]
    # Rows sorted by user then time; u1 trains on items 1..4 (indices 1..4), u2 on item 1.
    assert train.item.tolist()[:5] == [1, 2, 3, 4, 1]
    assert train.history[:5].tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3], [0, 0, 0]]
    # Interest of u1's first row: genres of items 1 and 2 (window 2) = A, B.
    assert train.labels["next_categories"][0].tolist() == [1.0, 1.0, 0.0]


def test_evaluation_sets_know_the_past_and_ask_for_the_held_out_items() -> None:
    data = tiny()
    val, test = data.splits["val"], data.splits["test"]
    assert val.users.uid.tolist() == [1, 2, 4] and test.users.uid.tolist() == [1, 2, 4]
    assert rows_of(val.known, 0) == [1, 2, 3, 4] and rows_of(val.relevant, 0) == [5]
    assert rows_of(test.known, 0) == [1, 2, 3, 4, 5] and rows_of(test.relevant, 0) == [6]
    assert val.users.history[0].tolist() == [2, 3, 4]
    assert test.users.history[0].tolist() == [3, 4, 5]  # the val item, never the test item
    assert test.users.history[2].tolist() == [2, 4, 6]  # u4: train i2, i4, then val i6
    assert test.categories[2].tolist() == [1.0, 0.0, 0.0]  # u4's test item i1 is genre A
    assert test.pair_labels["rating"].tolist() == [4.0, 4.0, 2.0]


def test_cold_start_users_are_held_out_entirely() -> None:
    split = SplitSpec(by="cold_start", val=0.25, test=0.25, seed=1)
    data = tiny(split)
    train_users = set(data.splits["train"].uid.tolist())
    for name in ("val", "test"):
        held = data.splits[name]
        assert not set(held.users.uid.tolist()) & train_users
        assert held.known.items.numel() == 0 and (held.users.history == 0).all()
        assert (held.users.cat[:, 0] == 0).all()  # their user id is unknown to the model
    assert tiny(split).info["data/split_hash_test"] == data.info["data/split_hash_test"]
    other = tiny(SplitSpec(by="cold_start", val=0.25, test=0.25, seed=2))
    assert other.splits["test"].users.uid.tolist() != data.splits["test"].users.uid.tolist()


def test_negatives_are_never_the_users_training_items() -> None:
    train = tiny(negatives=8).splits["train"]
    batch = train.take(slice(4, 5), torch.Generator().manual_seed(0))  # u2: item 1 seen
    items = batch.inputs.candidates
    assert items[:, 0].tolist() == [1]
    # Negatives come from the trained items (1..4; 5 and 6 are only val/test): never u2's own.
    assert set(items[:, 1:].flatten().tolist()) <= {2, 3, 4}


def test_items_without_a_training_interaction_are_never_negatives_and_have_no_id() -> None:
    for sampler in ("uniform", "popularity"):
        data = tiny(negatives=50, sampler=sampler, alpha=0.0)
        batch = data.splits["train"].take(slice(0, 9), torch.Generator().manual_seed(0))
        assert set(batch.inputs.candidates[:, 1:].flatten().tolist()) <= {1, 2, 3, 4}
    rows = data.context.items.id_rows  # the id vocabulary is fitted on train items only
    assert rows.tolist() == [0, 1, 2, 3, 4, 0, 0] and data.info["data/n_trained_items"] == 4


def test_uniform_negatives_over_the_full_catalogue_draw_as_before() -> None:
    from mtfw.data.interactions.negatives import NegativeSampler

    uid, item = torch.tensor([1, 1, 2]), torch.tensor([1, 2, 3])
    sampler = NegativeSampler.fit(uid, item, 4, Negatives(5, "uniform", 1.0))
    old = torch.randint(1, 4, (2, 5), generator=torch.Generator().manual_seed(3))
    assert torch.equal(sampler._draw((2, 5), torch.Generator().manual_seed(3)), old)


def test_no_held_out_interaction_leaks_into_training_or_histories() -> None:
    from mtfw.data.movielens import MovieLens100K

    overrides = dict(o.removeprefix("data.").split("=", 1) for o in ml100k())
    dataset = MovieLens100K(path=overrides.get("path"), root=overrides.get("root"), download=False)
    needs = DataNeeds({"rating": False}, Negatives(2), 2)
    data = prepare_interactions(dataset.load_frames(), TIME, needs, 50, True)
    train = data.splits["train"]
    seen = set(zip(train.uid.tolist(), train.item.tolist(), strict=True))
    for name in ("val", "test"):
        held = data.splits[name]
        pairs = set(zip(held.users.uid[held.pair_row].tolist(), held.pair_item.tolist(),
                        strict=True))  # fmt: skip
        assert not pairs & seen
        history = {(u, i) for u, row in zip(held.users.uid.tolist(), held.users.history.tolist(),
                   strict=True) for i in row if i}  # fmt: skip
        assert not pairs & history
    assert len(data.splits["test"]) == 943 and data.info["data/n_test"] >= 943


def test_missing_label_values_are_a_clear_error() -> None:
    import pytest

    from mtfw.errors import ConfigError

    frames = tiny_frames()
    frames.interactions.loc[3, "rating"] = float("nan")
    with pytest.raises(ConfigError, match="label 'rating' has 1 missing or non-numeric values"):
        prepare_tiny(frames)
    frames = tiny_frames()
    frames.interactions.loc[0, "item"] = "i99"
    with pytest.raises(
        ConfigError, match="1 interactions have an item id that is not in the item table"
    ):
        prepare_tiny(frames)


def test_popularity_sampler_draws_in_proportion_to_training_counts() -> None:
    train = tiny(negatives=4000, sampler="popularity", alpha=1.0).splits["train"]
    batch = train.take(slice(4, 5), torch.Generator().manual_seed(0))  # u2, who trained on i1
    drawn = torch.bincount(batch.inputs.candidates[0, 1:], minlength=7).tolist()
    # counts i2 3, i3 1, i4 3 (i1 is u2's own; i5, i6 never trained on): 3 : 1 : 3
    assert drawn[0] == drawn[1] == drawn[5] == drawn[6] == 0
    assert abs(drawn[2] / 4000 - 3 / 7) < 0.03 and abs(drawn[3] / 4000 - 1 / 7) < 0.03


def parts(split: SplitSpec) -> dict[tuple[str, str], str]:
    frame = tiny_frames().interactions
    part = assign(split, frame)
    return {(u, i): p for u, i, p in zip(frame["user"], frame["item"], part, strict=True)}


def test_leave_one_out_holds_out_each_users_last_and_second_last_interaction() -> None:
    got = parts(SplitSpec(by="leave_one_out", val=0.4, test=0.4))  # the shares are not used
    assert got[("u1", "i6")] == "test" and got[("u1", "i5")] == "val"
    assert got[("u4", "i1")] == "test" and got[("u4", "i6")] == "val"  # by time, not file order
    assert [p for (u, _), p in got.items() if u == "u1"].count("train") == 4  # one each held out
    assert {got[("u3", "i2")], got[("u3", "i4")]} == {"train"}  # too few to hold out


def test_random_split_holds_out_a_seeded_share_of_each_user_not_the_latest() -> None:
    split = SplitSpec(by="random", val=0.2, test=0.2, seed=0)
    got = parts(split)
    for user, n in (("u1", 6), ("u2", 3), ("u4", 4)):  # max(1, floor(n * share)) each
        mine = [p for (u, _), p in got.items() if u == user]
        assert mine.count("test") == 1 and mine.count("val") == 1 and len(mine) == n
    assert {got[("u3", "i2")], got[("u3", "i4")]} == {"train"}
    assert parts(split) == got  # seeded
    tests_of_u1 = {next(i for (u, i), p in parts(SplitSpec(by="random", seed=s)).items()
                        if u == "u1" and p == "test") for s in range(8)}  # fmt: skip
    assert len(tests_of_u1) > 1  # at random, not always the latest (i6)


def test_shares_that_leave_a_user_nothing_to_train_on_are_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With val 0.7 and test 0.25, u1 (6 interactions) and u4 (4) keep one to train on; u2 (3)
    holds out 1 for test and 2 for val, nothing is left: the error says how many users and why."""
    from mtfw.data.split import SplitError

    with pytest.raises(SplitError, match=r"leaves 1 of 4 users with no training interaction \(a "
                       r"user with 3 holds out 1 for test and 2 for val"):  # fmt: skip
        parts(SplitSpec(by="random", val=0.7, test=0.25))
    with caplog.at_level("INFO", logger="mtfw"):
        parts(SplitSpec(by="random", val=0.2, test=0.2))
    assert "1 of 4 users have fewer than 3 interactions: they stay in train" in caplog.text


def test_interaction_data_offers_the_per_user_protocols_and_flat_tables_refuse_them() -> None:
    from mtfw.data.dataset import Dataset
    from mtfw.data.interactions.dataset import InteractionDataset
    from mtfw.data.split import SplitError

    for by in ("random", "leave_one_out"):
        spec = SplitSpec.from_config({"by": by}, InteractionDataset.split_protocols)
        assert spec.by == by
    with pytest.raises(SplitError, match="must be random or time for this dataset, not "
                                         "'leave_one_out'"):  # fmt: skip
        SplitSpec.from_config({"by": "leave_one_out"}, Dataset.split_protocols)
