"""The pure parts of disk storage: the time cut against a sort, the streaming fit against
``Preprocessor.fit``, row hashes that ignore chunking, the block-shuffled order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mtfw.data.disk.block_order import BlockShuffle
from mtfw.data.disk.row_hash import unit_interval
from mtfw.data.disk.row_split import TEST, TRAIN, VAL, RowSplit
from mtfw.data.disk.streaming_fit import StreamingFit
from mtfw.data.disk.time_cut import kth_newest, order_keys
from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitSpec


def chunked(values: np.ndarray, step: int):
    return lambda: (values[i : i + step] for i in range(0, len(values), step))


@pytest.mark.parametrize("seed", range(6))
def test_the_time_cut_takes_the_rows_a_stable_sort_takes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    times = rng.integers(-5, 20, n).astype(np.float64)  # many ties, negative times
    times[rng.random(n) < 0.05] = np.nan  # sorted last by NumPy: the newest
    times[rng.random(n) < 0.05] = -np.inf
    newest = np.argsort(times, kind="stable")[::-1]  # what memory storage takes
    for k in {0, 1, n // 3, n - 1, n}:
        cut = kth_newest(chunked(times, int(rng.integers(1, 50))), k)
        rows = np.arange(n)
        taken = np.zeros(n, bool) if cut is None else cut.at_or_above(order_keys(times), rows)
        assert set(np.flatnonzero(taken)) == set(newest[:k].tolist()), k


def test_order_keys_order_as_the_floats() -> None:
    values = np.array([-np.inf, -1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, np.inf, np.nan])
    keys = order_keys(values)
    assert (np.diff(keys.astype(np.float64)) >= 0).all() and keys[-1] > keys[-2]
    assert list(np.argsort(keys[[6, 0, 8, 2]])) == [1, 3, 0, 2]


def test_a_rows_split_does_not_depend_on_the_chunking() -> None:
    split = RowSplit(SplitSpec(val=0.2, test=0.1, seed=3))
    rows = np.arange(10_000)
    whole = split.codes(rows, pd.DataFrame(index=rows), None, None)
    parts = np.concatenate([split.codes(r, pd.DataFrame(index=r), None, None)
                            for r in np.array_split(rows, 7)])  # fmt: skip
    assert (whole == parts).all()
    shares = np.bincount(whole, minlength=3) / rows.size
    assert shares[VAL] == pytest.approx(0.2, abs=0.015)
    assert shares[TEST] == pytest.approx(0.1, abs=0.01)
    other = RowSplit(SplitSpec(val=0.2, test=0.1, seed=4)).codes(rows, pd.DataFrame(index=rows),
                                                                  None, None)  # fmt: skip
    assert (other != whole).mean() > 0.2  # another seed, another split


def test_hashed_folds_cover_every_row_once_and_keep_groups_together() -> None:
    rows = np.arange(3000)
    frame = pd.DataFrame({"user": rows % 97})
    tests = []
    for fold in range(3):
        spec = SplitSpec(val=0.1, test=0.1, seed=0, folds=3, fold=fold, group="user")
        codes = RowSplit(spec).codes(rows, frame, None, None)
        tests.append(codes == TEST)
        for part in (TEST, VAL, TRAIN):  # a user is in one part of a fold
            users = set(frame.user[codes == part])
            assert not users & set(frame.user[(codes != part)])
    assert (np.sum(tests, axis=0) == 1).all()  # every row is test in exactly one fold


def test_unit_interval_is_uniform_and_seeded() -> None:
    u = unit_interval(np.arange(100_000, dtype=np.uint64), seed=0, stream=0)
    assert u.min() >= 0 and u.max() < 1
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 9_500
    assert (u != unit_interval(np.arange(100_000, dtype=np.uint64), seed=1, stream=0)).all()


def frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "a": rng.choice(["x", "y", "z", None], n, p=[0.6, 0.3, 0.05, 0.05]),
        "b": rng.integers(0, 50, n), "h": rng.integers(0, 10_000, n),
        "s": ["|".join(map(str, rng.integers(0, 30, rng.integers(0, 4)))) for _ in range(n)],
        "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(3, 2, n) * 1e4),
        "y": rng.exponential(5.0, n),
    })  # fmt: skip


@pytest.mark.parametrize("min_count", [1, 3])
def test_the_streaming_fit_equals_the_fit_on_all_rows(min_count: int) -> None:
    data = frame(np.random.default_rng(0), 5000)

    def pre() -> Preprocessor:
        return Preprocessor(["a", "b", "h"], ["x", "y"], ["y"], {"s": {"max_length": 3}}, True,
                            None, {"a": min_count, "b": min_count, "h": min_count},
                            {"h": 64})  # fmt: skip

    whole = pre().fit(data)
    stream = StreamingFit(pre())
    for part in np.array_split(np.arange(len(data)), 13):
        stream.add(data.iloc[part])
    fitted = stream.fitted()
    assert fitted.vocab == whole.vocab and fitted.tokens == whole.tokens
    assert fitted.kept_buckets == whole.kept_buckets and fitted.indicators == whole.indicators
    for col in ("x", "y"):
        assert fitted.mean[col] == pytest.approx(whole.mean[col], rel=1e-12)
        assert fitted.std[col] == pytest.approx(whole.std[col], rel=1e-10)
    assert (fitted.transform(data)[0] == whole.transform(data)[0]).all()


@pytest.mark.parametrize(("n", "block", "buffer"), [(1000, 64, 3), (777, 100, 1), (50, 64, 8)])
def test_block_shuffling_visits_every_row_once_per_epoch(n: int, block: int, buffer: int) -> None:
    shuffle = BlockShuffle(block, buffer)

    def order(seed: int) -> list[int]:
        rows = []
        for blocks, perm in shuffle.buffers(n, torch.Generator().manual_seed(seed)):
            laid = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
            rows += laid[perm.numpy()].tolist()
        return rows

    first = order(0)
    assert sorted(first) == list(range(n))
    assert order(0) == first  # the same generator: the same epoch
    if n > block:
        assert order(1) != first
        assert first[:block] != list(range(first[0], first[0] + block))  # rows mixed in blocks
