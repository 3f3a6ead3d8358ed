"""The data path (mtfw/data): preprocessing, splits, prepare(), census, locate, synthetic."""

from __future__ import annotations

import hashlib
import itertools
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import shared_path

from mtfw.data import DataNeeds, PreparedData, TableDataset
from mtfw.data import census as census_module
from mtfw.data.census import Census
from mtfw.data.locate import locate
from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitSpec, fingerprint
from mtfw.data.synthetic import SyntheticMMoE
from mtfw.data.table import Table
from mtfw.errors import ConfigError, DataNotFoundError


def prepare(dataset: TableDataset, labels: dict[str, bool]) -> PreparedData:
    """Prepare a flat dataset for tasks reading ``labels`` (column -> missing values allowed)."""
    return dataset.prepare(DataNeeds(labels=labels))


SHARED_CENSUS = shared_path(f"census-income/{census_module.FILENAME}")
CENSUS_FILE = SHARED_CENSUS if SHARED_CENSUS.is_file() else census_module.PACKAGED
# From the data README: 99,762 rows x 42 columns, 7 numeric; 6.2% income, 43.2% never married.
CENSUS_ROWS = 99_762
CENSUS_SOURCES = {"income_50k", "marital_stat", "education", "instance_weight"}


# --------------------------------------------------------------------------------------------
# Preprocessor


def test_preprocessor_vocabulary_is_fitted_on_train_only() -> None:
    train = pd.DataFrame({"city": ["a", "b", "a", None]})
    test = pd.DataFrame({"city": ["b", "only_in_test", None, "a"]})
    pre = Preprocessor(["city"], []).fit(train)
    train_ids, _ = pre.transform(train)
    test_ids, _ = pre.transform(test)
    ids = train_ids[:, 0].tolist()
    # "a", "b" and missing get distinct ids >= 1; id 0 is reserved for unseen values.
    assert ids[0] == ids[2]
    assert len({ids[0], ids[1], ids[3]}) == 3
    assert min(ids) >= 1
    assert pre.vocab_sizes == [4]  # a, b, missing + the unknown id 0
    # In test: known values keep their train id, the unseen value maps to 0, and missing is the
    # same category as missing in train (not the unknown id).
    assert test_ids[:, 0].tolist() == [ids[1], 0, ids[3], ids[0]]


def test_preprocessor_missing_categorical_is_its_own_category() -> None:
    train = pd.DataFrame({"c": [np.nan, "x", np.nan, "y"]})
    pre = Preprocessor(["c"], []).fit(train)
    ids = pre.transform(train)[0][:, 0].tolist()
    assert ids[0] == ids[2] != 0
    assert len(set(ids)) == 3


def test_preprocessor_numeric_uses_train_mean_and_std() -> None:
    # train: mean 2.5, population std sqrt(((1.5^2 + 0.5^2) * 2) / 4) = sqrt(1.25)
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    test = pd.DataFrame({"x": [5.0, 2.5, 0.0]})
    pre = Preprocessor([], ["x"]).fit(train)
    assert pre.mean["x"] == pytest.approx(2.5)
    assert pre.std["x"] == pytest.approx(math.sqrt(1.25))
    _, num = pre.transform(test)
    expected = [(5 - 2.5) / math.sqrt(1.25), 0.0, (0 - 2.5) / math.sqrt(1.25)]
    assert num[:, 0].tolist() == pytest.approx(expected, abs=1e-6)
    # Train itself becomes mean 0, std 1.
    _, num_train = pre.transform(train)
    assert float(num_train.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(num_train.std(unbiased=False)) == pytest.approx(1.0, abs=1e-6)


def test_preprocessor_nan_numeric_is_zero_after_standardising() -> None:
    # NaN is left out of the statistics: mean of (1, 3) = 2, std = 1.
    train = pd.DataFrame({"x": [1.0, np.nan, 3.0]})
    test = pd.DataFrame({"x": [np.nan, 4.0, np.inf]})
    pre = Preprocessor([], ["x"]).fit(train)
    assert (pre.mean["x"], pre.std["x"]) == pytest.approx((2.0, 1.0))
    _, num_train = pre.transform(train)
    _, num_test = pre.transform(test)
    assert num_train[:, 0].tolist() == pytest.approx([-1.0, 0.0, 1.0])
    assert num_test[:, 0].tolist() == pytest.approx([0.0, 2.0, 0.0])
    assert torch.isfinite(num_test).all()


def test_preprocessor_constant_column_does_not_divide_by_zero() -> None:
    pre = Preprocessor([], ["x"]).fit(pd.DataFrame({"x": [7.0, 7.0]}))
    _, num = pre.transform(pd.DataFrame({"x": [7.0, 9.0]}))
    assert num[:, 0].tolist() == pytest.approx([0.0, 2.0])


def test_preprocessor_log1p_is_signed() -> None:
    # sign(v) * log1p(|v|): e - 1 -> 1, -(e - 1) -> -1; mean 0, std 1, so no rescaling.
    e1 = math.e - 1
    pre = Preprocessor([], ["x"], log1p=["x", "not_numeric"]).fit(pd.DataFrame({"x": [e1, -e1]}))
    assert pre.log1p == ["x"]
    _, num = pre.transform(pd.DataFrame({"x": [e1, 0.0, -e1]}))
    assert num[:, 0].tolist() == pytest.approx([1.0, 0.0, -1.0], abs=1e-6)


def test_preprocessor_empty_train_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        Preprocessor(["c"], []).fit(pd.DataFrame({"c": []}))


def test_preprocessor_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "c1": rng.choice(["a", "b", "c", None], 50),
            "c2": rng.choice(["u", "v"], 50),
            "x": rng.normal(size=50),
            "y": rng.exponential(size=50),
        }
    )
    new = pd.DataFrame(
        {"c1": ["a", "zzz", None], "c2": ["v", "u", "w"], "x": [0.3, np.nan, 9.0], "y": [1, 2, 3]}
    )
    pre = Preprocessor(["c1", "c2"], ["x", "y"], log1p=["y"]).fit(train)
    pre.save(tmp_path / "pre.json")
    loaded = Preprocessor.load(tmp_path / "pre.json")
    for frame in (train, new):
        cat_a, num_a = pre.transform(frame)
        cat_b, num_b = loaded.transform(frame)
        assert torch.equal(cat_a, cat_b)
        assert torch.equal(num_a, num_b)
    assert loaded.vocab_sizes == pre.vocab_sizes
    assert loaded.log1p == ["y"]


# --------------------------------------------------------------------------------------------
# SplitSpec


def test_split_same_seed_same_indices() -> None:
    a = SplitSpec(val=0.1, test=0.2, seed=3).indices(1000)
    b = SplitSpec(val=0.1, test=0.2, seed=3).indices(1000)
    for name in ("train", "val", "test"):
        assert np.array_equal(a[name], b[name])
        assert fingerprint(a[name]) == fingerprint(b[name])


def test_split_different_seed_different_indices() -> None:
    a = SplitSpec(seed=0).indices(1000)
    b = SplitSpec(seed=1).indices(1000)
    for name in ("train", "val", "test"):
        assert not np.array_equal(a[name], b[name])
        assert fingerprint(a[name]) != fingerprint(b[name])


@pytest.mark.parametrize(("n", "val", "test"), [(1000, 0.1, 0.2), (999, 0.1, 0.1), (37, 0.3, 0.05)])
def test_split_sizes_and_partition(n: int, val: float, test: float) -> None:
    parts = SplitSpec(val=val, test=test).indices(n)
    assert len(parts["val"]) == round(n * val)
    assert len(parts["test"]) == round(n * test)
    assert sum(len(p) for p in parts.values()) == n
    everything = np.concatenate(list(parts.values()))
    assert np.array_equal(np.sort(everything), np.arange(n))  # disjoint and complete


def test_split_empty_split_raises_clearly() -> None:
    with pytest.raises(ConfigError) as err:
        SplitSpec(val=0.1, test=0.1).indices(4)  # round(0.4) = 0 validation rows
    message = str(err.value)
    assert "val split is empty" in message
    assert "4 rows" in message


def test_split_zero_fraction_raises() -> None:
    with pytest.raises(ConfigError, match="test split is empty"):
        SplitSpec.from_config({"val": 0.2, "test": 0.0}).indices(100)


def test_split_unknown_key_has_closest_match() -> None:
    with pytest.raises(ConfigError) as err:
        SplitSpec.from_config({"val": 0.1, "sed": 3})
    assert "'sed'" in str(err.value)
    assert "Did you mean 'seed'" in str(err.value)


@pytest.mark.parametrize("node", [{"val": 0.6, "test": 0.4}, {"val": -0.1}, {"test": 1.0}])
def test_split_bad_fractions_raise(node: dict) -> None:
    with pytest.raises(ConfigError, match="fractions"):
        SplitSpec.from_config(node)


# --------------------------------------------------------------------------------------------
# prepare() on a tiny in-memory dataset


class TinyDataset(TableDataset):
    """A Dataset built in the test from a DataFrame."""

    def __init__(
        self,
        frame: pd.DataFrame,
        categorical: list[str],
        numeric: list[str],
        labels: list[str],
        label_sources: dict[str, list[str]] | None = None,
        split: dict | None = None,
    ):
        super().__init__(split)
        self.frame, self.categorical, self.numeric = frame, categorical, numeric
        self.labels, self.label_sources = labels, label_sources or {}

    def load(self) -> Table:
        return Table(
            frame=self.frame.copy(),
            categorical=list(self.categorical),
            numeric=list(self.numeric),
            labels=list(self.labels),
            label_sources=dict(self.label_sources),
            checksum="tiny",
            source="tiny",
        )


def tiny_frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    click = rng.integers(0, 2, n).astype(np.float64)
    # buy is only known for clicked rows (NaN elsewhere), like CVR.
    buy = np.where(click == 1, rng.integers(0, 2, n), np.nan)
    return pd.DataFrame(
        {
            "row": np.arange(n, dtype=np.float64),
            "color": rng.choice(["red", "green", "blue"], n),
            "click": click,
            "buy": buy,
        }
    )


def tiny(frame: pd.DataFrame | None = None, **kwargs) -> TinyDataset:
    frame = tiny_frame() if frame is None else frame
    defaults = {"categorical": ["color"], "numeric": ["row"], "labels": ["click", "buy"]}
    defaults.update(kwargs)
    return TinyDataset(frame, **defaults)


def test_prepare_unknown_label_lists_available_labels() -> None:
    with pytest.raises(ConfigError) as err:
        prepare(tiny(), {"clik": False})
    message = str(err.value)
    assert "'clik'" in message
    assert "click" in message and "buy" in message
    assert "Did you mean 'click'" in message


def test_prepare_nan_labels_raise_unless_masked() -> None:
    with pytest.raises(ConfigError) as err:
        prepare(tiny(), {"click": False, "buy": False})
    assert "'buy'" in str(err.value)
    assert "mask_missing" in str(err.value)
    prepare(tiny(), {"click": False, "buy": True})  # allowed when masked


def test_prepare_non_numeric_label_counts_as_missing() -> None:
    frame = tiny_frame()
    frame["click"] = frame["click"].astype(object)
    frame.loc[3, "click"] = "yes"
    with pytest.raises(ConfigError, match="label 'click' has 1 missing"):
        prepare(tiny(frame), {"click": False})


def test_prepare_masks_and_labels_follow_the_rows() -> None:
    frame = tiny_frame()
    dataset = tiny(frame)
    prepared = prepare(dataset, {"click": False, "buy": True})
    parts = dataset.split.indices(len(frame))
    assert set(prepared.splits) == {"train", "val", "test"}
    for name, idx in parts.items():
        cols = prepared.splits[name]
        rows = frame.iloc[idx]
        assert len(cols) == len(idx)
        buy = rows["buy"].to_numpy()
        expected_mask = ~np.isnan(buy)
        if expected_mask.all():  # a split where every sample has the label carries no mask
            assert "buy" not in cols.masks
        else:
            assert cols.masks["buy"].dtype == torch.bool
            assert np.array_equal(cols.masks["buy"].numpy(), expected_mask)
        assert np.array_equal(cols.labels["buy"].numpy(), np.where(expected_mask, buy, 0.0))
        assert "click" not in cols.masks  # fully labelled: no mask to slice per batch
        assert np.array_equal(cols.labels["click"].numpy(), rows["click"].to_numpy())
        assert cols.labels["buy"].dtype == torch.float32
    assert prepared.info["data/n_train"] == len(parts["train"])
    assert prepared.info["data/split_hash_test"] == fingerprint(parts["test"])


def test_prepare_fits_preprocessing_on_train_only() -> None:
    frame = tiny_frame(100)
    dataset = tiny(frame, split={"val": 0.1, "test": 0.1, "seed": 4})
    parts = dataset.split.indices(len(frame))
    frame.loc[parts["test"], "color"] = "only_in_test"
    frame.loc[parts["test"], "row"] = 1e6  # would move the mean if test were used in fitting
    prepared = prepare(dataset, {"click": False})
    assert "only_in_test" not in prepared.preprocessor.vocab["color"]
    assert bool((prepared.splits["test"].cat[:, 0] == 0).all())
    assert bool((prepared.splits["train"].cat[:, 0] > 0).all())
    train_rows = frame.loc[parts["train"], "row"].to_numpy()
    assert prepared.preprocessor.mean["row"] == pytest.approx(train_rows.mean())


def test_prepare_leakage_guard_on_tiny_dataset() -> None:
    leaky = tiny(
        numeric=["row", "click"],
        labels=["click"],
    )
    with pytest.raises(ConfigError, match="leakage"):
        prepare(leaky, {"click": False})
    sourced = tiny(labels=["click"], label_sources={"click": ["color"]})
    with pytest.raises(ConfigError, match="leakage: column 'color'"):
        prepare(sourced, {"click": False})


# --------------------------------------------------------------------------------------------
# Census (the real file, read from disk once per module)


class CachingPandas:
    """Stands in for ``pd`` inside mtfw.data.census: ``read_csv`` reads each file once.

    Every ``Census.load`` then runs its own logic on a fresh copy of the cached raw frame."""

    def __init__(self) -> None:
        self.frames: dict[str, pd.DataFrame] = {}
        self.reads = 0

    def __getattr__(self, name: str):
        return getattr(pd, name)

    def read_csv(self, path, **kwargs) -> pd.DataFrame:
        key = str(path)
        if key not in self.frames:
            self.reads += 1
            self.frames[key] = pd.read_csv(path, **kwargs)
        return self.frames[key].copy()


@pytest.fixture(scope="module")
def census_pandas() -> Iterator[CachingPandas]:
    fake = CachingPandas()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(census_module, "pd", fake)
        yield fake
    assert fake.reads <= len(fake.frames)  # each file parsed once (the download test adds one)


@pytest.fixture(scope="module")
def census_table(census_pandas: CachingPandas) -> Table:
    return Census(path=str(CENSUS_FILE), download=False).load()


@pytest.fixture(scope="module")
def census_prepared(census_pandas: CachingPandas) -> PreparedData:
    dataset = Census(path=str(CENSUS_FILE), download=False)
    return prepare(dataset, {"income": False, "marital": False, "college": False})


def test_census_table_shape_and_checksum(census_table: Table) -> None:
    assert len(census_table.frame) == CENSUS_ROWS
    assert census_table.checksum == census_module.SHA256
    assert census_table.labels == ["income", "marital", "college"]
    # The default inputs: 42 columns less the sampling weight; 7 of them numeric. Preparing drops
    # the sources of the labels the run's tasks read.
    assert len(census_table.numeric) == 7
    assert len(census_table.categorical) + len(census_table.numeric) == 42 - 1
    assert census_table.default_inputs


def test_census_no_label_source_among_features(census_prepared: PreparedData) -> None:
    pre = census_prepared.preprocessor
    features = set(pre.categorical) | set(pre.numeric)
    assert not features & CENSUS_SOURCES  # all three labels selected: all three sources dropped
    assert not features & {"income", "marital", "college"}


def test_census_label_rates_match_readme(census_table: Table) -> None:
    frame = census_table.frame
    assert float(frame["income"].mean()) == pytest.approx(0.062, abs=0.001)
    assert float(frame["marital"].mean()) == pytest.approx(0.432, abs=0.001)
    for label in census_table.labels:
        assert set(frame[label].unique()) <= {0.0, 1.0}


def test_census_prepared_splits(census_prepared: PreparedData) -> None:
    splits = census_prepared.splits
    n_val = n_test = round(CENSUS_ROWS * 0.1)
    sizes = {name: len(cols) for name, cols in splits.items()}
    assert sizes == {"train": CENSUS_ROWS - n_val - n_test, "val": n_val, "test": n_test}
    assert sum(sizes.values()) == CENSUS_ROWS
    for cols in splits.values():
        assert cols.cat.shape[1] == 31 and cols.num.shape[1] == 7
        assert cols.cat.dtype == torch.long and cols.num.dtype == torch.float32
        assert torch.isfinite(cols.num).all()
        assert "income" not in cols.masks  # every row has its census labels
    train = splits["train"]
    sizes_ok = train.cat.max(0).values < torch.tensor(census_prepared.preprocessor.vocab_sizes)
    assert bool(sizes_ok.all())
    assert float(train.labels["income"].mean()) == pytest.approx(0.062, abs=0.005)
    assert float(train.labels["marital"].mean()) == pytest.approx(0.432, abs=0.01)
    assert census_prepared.info["data/checksum"] == census_module.SHA256
    assert census_prepared.info["data/split_seed"] == 0


def test_census_leakage_guard(census_pandas: CachingPandas) -> None:
    dataset = Census(path=str(CENSUS_FILE), download=False, features=["age", "sex", "marital_stat"])
    with pytest.raises(ConfigError) as err:
        prepare(dataset, {"income": False, "marital": False})
    assert "leakage" in str(err.value)
    assert "marital_stat" in str(err.value)
    # marital_stat is the source of a label no task reads here: an input like any other
    prepared = prepare(dataset, {"income": False})
    assert "marital_stat" in prepared.preprocessor.categorical


def test_census_unknown_feature_has_closest_match(census_pandas: CachingPandas) -> None:
    dataset = Census(path=str(CENSUS_FILE), download=False, features=["age", "sexx"])
    with pytest.raises(ConfigError, match="Did you mean 'sex'"):
        dataset.load()
    weighted = Census(path=str(CENSUS_FILE), download=False, features=["instance_weight"])
    with pytest.raises(ConfigError, match="sampling weight"):
        weighted.load()


def test_census_unknown_label(census_pandas: CachingPandas) -> None:
    dataset = Census(path=str(CENSUS_FILE), download=False)
    with pytest.raises(ConfigError) as err:
        prepare(dataset, {"incme": False})
    assert "income, marital, college" in str(err.value)
    assert "Did you mean 'income'" in str(err.value)


# --------------------------------------------------------------------------------------------
# Locating and downloading data files


@pytest.fixture
def no_env_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty $MTFW_DATA, and no proxy between us and 127.0.0.1."""
    env_root = tmp_path / "env_root"
    monkeypatch.setenv("MTFW_DATA", str(env_root))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return env_root


def small_file(tmp_path: Path) -> tuple[Path, str]:
    source = tmp_path / "source" / "small.gz"
    source.parent.mkdir()
    data = b"a small file\n" * 100
    source.write_bytes(data)
    return source, hashlib.sha256(data).hexdigest()


def test_locate_explicit_missing_path(tmp_path: Path, no_env_data: Path) -> None:
    missing = tmp_path / "nowhere" / "census.gz"
    with pytest.raises(DataNotFoundError) as err:
        locate(
            "census.gz", path=str(missing), root=None, packaged=CENSUS_FILE, url=None,
            sha256=None, allow_download=False, how_to_get="HOW-TO-GET-IT",
        )  # fmt: skip
    assert str(missing) in str(err.value)
    assert "HOW-TO-GET-IT" in str(err.value)
    assert isinstance(err.value, FileNotFoundError)


def test_locate_search_order(tmp_path: Path, no_env_data: Path) -> None:
    source, _ = small_file(tmp_path)
    kwargs = {"url": None, "sha256": None, "allow_download": False, "how_to_get": ""}
    # Only the packaged copy exists.
    assert locate("small.gz", path=None, root=None, packaged=source, **kwargs) == source
    # A copy in the data directory ($MTFW_DATA), in the dataset's own sub-folder, comes first.
    in_env = no_env_data / "small" / "small.gz"
    in_env.parent.mkdir(parents=True)
    in_env.write_bytes(b"x")
    assert locate("small.gz", path=None, root=None, packaged=source, **kwargs) == in_env
    # data.root comes before $MTFW_DATA.
    root = tmp_path / "root"
    root.mkdir()
    (root / "small.gz").write_bytes(b"y")
    assert locate("small.gz", path=None, root=str(root), packaged=source, **kwargs) == (
        root / "small.gz"
    )
    # An explicit path comes before everything.
    assert locate("small.gz", path=str(source), root=str(root), packaged=None, **kwargs) == source


def test_download_from_file_url_lands_in_root(tmp_path: Path, no_env_data: Path) -> None:
    source, sha = small_file(tmp_path)
    root = tmp_path / "data_root"  # does not exist yet
    found = locate(
        "small.gz", path=None, root=str(root), packaged=None, url=source.as_uri(), sha256=sha,
        allow_download=True, how_to_get="",
    )  # fmt: skip
    assert found == root / "small.gz"
    assert found.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in root.iterdir()) == ["small.gz"]  # no .part left over


def test_download_into_env_root_without_data_root(tmp_path: Path, no_env_data: Path) -> None:
    source, sha = small_file(tmp_path)
    found = locate(
        "small.gz", path=None, root=None, packaged=None, url=source.as_uri(), sha256=sha,
        allow_download=True, how_to_get="",
    )  # fmt: skip
    assert found == no_env_data / "small.gz"


def test_download_with_wrong_checksum_leaves_nothing(tmp_path: Path, no_env_data: Path) -> None:
    source, sha = small_file(tmp_path)
    wrong = "0" * 64
    root = tmp_path / "data_root"
    with pytest.raises(DataNotFoundError) as err:
        locate(
            "small.gz", path=None, root=str(root), packaged=None, url=source.as_uri(),
            sha256=wrong, allow_download=True, how_to_get="HOW-TO-GET-IT",
        )  # fmt: skip
    message = str(err.value)
    assert wrong in message and sha in message
    assert "HOW-TO-GET-IT" in message
    leftovers = list(root.rglob("*")) if root.exists() else []
    assert leftovers == []


def test_unreachable_url_fails_fast_and_says_where_it_looked(
    tmp_path: Path, no_env_data: Path
) -> None:
    root = tmp_path / "data_root"
    url = "http://127.0.0.1:9/x.gz"
    start = time.monotonic()
    with pytest.raises(DataNotFoundError) as err:
        locate(
            "x.gz", path=None, root=str(root), packaged=tmp_path / "pkg" / "x.gz", url=url,
            sha256="0" * 64, allow_download=True, how_to_get="Download it from HOW-TO-GET-IT.",
        )  # fmt: skip
    assert time.monotonic() - start < 10
    message = str(err.value)
    for place in (
        root / "x.gz",
        root / "x" / "x.gz",
        no_env_data / "x.gz",
        tmp_path / "pkg" / "x.gz",
    ):
        assert str(place) in message
    assert url in message
    assert "HOW-TO-GET-IT" in message
    assert not root.exists()  # a failed download leaves no empty folder behind


def test_malformed_url_is_a_data_error_not_a_traceback(tmp_path: Path, no_env_data: Path) -> None:
    with pytest.raises(DataNotFoundError) as err:
        locate(
            "x.gz", path=None, root=str(tmp_path / "r"), packaged=None, url="archive.example/x.gz",
            sha256="0" * 64, allow_download=True, how_to_get="HOW",
        )  # fmt: skip
    assert "archive.example/x.gz" in str(err.value) and "HOW" in str(err.value)


def test_census_is_downloaded_and_verified_when_no_copy_is_found(
    tmp_path: Path, no_env_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who deleted the packaged file gets it from the official URL (here a file:// copy)."""
    monkeypatch.setattr(census_module, "PACKAGED", tmp_path / "deleted" / census_module.FILENAME)
    root = tmp_path / "data"
    table = Census(root=str(root), url=CENSUS_FILE.as_uri()).load()
    assert (root / census_module.FILENAME).is_file()
    assert table.checksum == census_module.SHA256 and len(table.frame) == 99_762
    with pytest.raises(DataNotFoundError, match=r"census-income\.test\.gz"):
        Census(root=str(tmp_path / "empty"), download=False).load()


def test_no_download_allowed_lists_places(tmp_path: Path, no_env_data: Path) -> None:
    with pytest.raises(DataNotFoundError) as err:
        locate(
            "x.gz", path=None, root=None, packaged=None, url="http://127.0.0.1:9/x.gz",
            sha256="0" * 64, allow_download=False, how_to_get="HOW",
        )  # fmt: skip
    assert str(no_env_data / "x.gz") in str(err.value)
    assert "127.0.0.1" not in str(err.value)


# --------------------------------------------------------------------------------------------
# Synthetic data (MMoE paper §3.2)


def test_synthetic_label_correlation_grows_with_p() -> None:
    ps = [0.0, 0.3, 0.6, 0.9, 1.0]
    pearson = [
        SyntheticMMoE(n_samples=5000, input_dim=20, correlation=p).load().info["label_pearson"]
        for p in ps
    ]
    assert all(a < b for a, b in itertools.pairwise(pearson)), pearson
    assert abs(pearson[0]) < 0.05
    assert pearson[-1] > 0.9


def test_synthetic_records_measured_correlation() -> None:
    table = SyntheticMMoE(n_samples=2000, input_dim=10, correlation=0.6).load()
    measured = np.corrcoef(table.frame["y1"], table.frame["y2"])[0, 1]
    assert table.info["label_pearson"] == pytest.approx(measured, abs=1e-6)
    assert table.info["weight_cosine"] == 0.6
    assert table.numeric == [f"x{i}" for i in range(10)]
    assert table.labels == ["y1", "y2"]


def test_synthetic_same_seed_same_arrays() -> None:
    a = SyntheticMMoE(n_samples=500, input_dim=8, seed=5)
    b = SyntheticMMoE(n_samples=500, input_dim=8, seed=5)
    xa, ya = a.generate()
    xb, yb = b.generate()
    assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    xa2, ya2 = a.generate()  # generating twice does not advance any state
    assert np.array_equal(xa, xa2) and np.array_equal(ya, ya2)
    assert a.load().checksum == b.load().checksum
    xc, yc = SyntheticMMoE(n_samples=500, input_dim=8, seed=6).generate()
    assert not np.array_equal(xa, xc) and not np.array_equal(ya, yc)


def test_synthetic_rejects_bad_correlation() -> None:
    with pytest.raises(ConfigError, match="correlation"):
        SyntheticMMoE(correlation=1.5)
