"""Honest numeric features of a tabular file: non-numbers are an error or, with ``coerce``, missing
values with a warning; missing-value indicators decided and filled from train only; a column has
one kind; timestamps may be dates; out-of-range data settings are refused before data loads."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY, summary

from mtfw.cli import main as cli_main
from mtfw.data.column_values import timestamp_values
from mtfw.data.needs import DataNeeds
from mtfw.data.preprocess import Preprocessor
from mtfw.data.tabular import TabularFile
from mtfw.errors import ConfigError

FIXTURE = Path(__file__).parent / "fixtures" / "click_log.csv"


def split_files(folder: Path) -> dict[str, str]:
    """Pre-split files, so each test knows which rows are train: ``a`` is missing in train rows 1
    and 3 and holds 1000 in val/test (a train-only mean ignores them); ``b`` is missing in test
    only (no indicator: decided on train); ``p`` holds one '?'."""
    parts = {
        "train": {"a": [1.0, None, 3.0, None, 5.0], "b": [1.0, 2, 3, 4, 5],
                  "p": ["1", "2", "?", "4", "5"], "y": [0, 1, 0, 1, 0]},
        "val": {"a": [1000.0, 1000.0], "b": [1.0, 2], "p": ["1", "2"], "y": [0, 1]},
        "test": {"a": [None, 1000.0], "b": [None, 2.0], "p": ["1", "2"], "y": [1, 0]},
    }  # fmt: skip
    files = {}
    for name, columns in parts.items():
        files[name] = str(folder / f"{name}.csv")
        pd.DataFrame(columns).to_csv(files[name], index=False)
    return files


def prepared(folder: Path, **settings):
    data = TabularFile(labels={"y": "y"}, files=split_files(folder), numeric=["a", "b", "p"],
                       **settings)  # fmt: skip
    return data.prepare(DataNeeds(labels={"y": False}))


def test_a_non_number_is_an_error_naming_column_value_row_and_coerce(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        prepared(tmp_path)
    message = str(err.value)
    assert "numeric column 'p' holds 1 values that are not numbers, e.g. '?' in row 2" in message
    assert "data.coerce: [p]" in message


@pytest.mark.parametrize("coerce", [True, ["p"], ["[p]"]])
def test_coerce_reads_non_numbers_as_missing_with_a_count_per_column(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, coerce
) -> None:
    with caplog.at_level(logging.WARNING, logger="mtfw"):
        data = prepared(tmp_path, coerce=coerce)
    assert "numeric column 'p': 1 of 9 values are not numbers (e.g. '?' in row 2)" in caplog.text
    assert data.info["data/coerced/p"] == 1 and "data/coerced/a" not in data.info
    # read as missing: the train mean of 1, 2, 4, 5 fills it (0 after standardising)
    assert data.preprocessor.mean["p"] == pytest.approx(3.0)
    assert data.splits["train"].num[2, 2].item() == 0.0


def test_coerce_names_numeric_columns_only(tmp_path: Path) -> None:
    data = TabularFile(labels={"y": "y"}, files=split_files(tmp_path), numeric=["a"],
                       categorical=["b"], coerce=["b"])  # fmt: skip
    with pytest.raises(ConfigError, match=r"data\.coerce names b, which the data config does not"):
        data.prepare(DataNeeds(labels={"y": False}))


def test_missing_indicators_come_from_train_only(tmp_path: Path) -> None:
    data = prepared(tmp_path, coerce=True, missing_indicator=True)
    pre = data.preprocessor
    # a and p have missing values in train; b only in test, so it gets no indicator
    assert pre.indicators == ["a", "p"] and pre.numeric_names == ["a", "b", "p", "a_missing",
                                                                   "p_missing"]  # fmt: skip
    assert data.info["data/missing_indicators"] == ["a_missing", "p_missing"]
    assert data.context.inputs.n_numeric == 5
    assert pre.mean["a"] == pytest.approx(3.0)  # 1, 3, 5: neither val's nor test's 1000s
    train, test = data.splits["train"].num, data.splits["test"].num
    assert train[:, 3].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]
    assert train[:, 4].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert train[1, 0].item() == 0.0  # the value itself: the train mean, 0 after standardising
    assert test[:, 3].tolist() == [1.0, 0.0] and test[0, 1].item() == 0.0  # b filled, no flag
    assert torch.equal(Preprocessor.from_dict(pre.to_dict()).transform(
        pd.read_csv(tmp_path / "test.csv"))[1], test)  # fmt: skip


def test_without_missing_indicator_the_inputs_are_the_numeric_columns(tmp_path: Path) -> None:
    data = prepared(tmp_path, coerce=True)
    assert data.preprocessor.indicators == [] and data.context.inputs.n_numeric == 3
    assert "data/missing_indicators" not in data.info


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"categorical": ["price"], "numeric": ["price"]},
         "column 'price' is listed under both categorical and numeric"),
        ({"ids": ["user_id"], "categorical": ["user_id"]},
         "column 'user_id' is listed under both ids and categorical"),
        ({"sequence": {"hist": {"max_length": 0}}},
         "data.sequence.hist.max_length=0 is out of range: allowed [1, inf)"),
        ({"sequence": {"hist": {"max_length": 2.5}}}, "expected a whole number"),
    ],
)  # fmt: skip
def test_bad_column_settings_are_refused_before_data_loads(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:  # the path does not exist: nothing is read
        TabularFile(labels={"click": "click"}, path="/no/such/log.csv", **settings)
    assert message in str(err.value)


def test_a_column_matched_by_two_kinds_through_patterns_is_refused() -> None:
    data = TabularFile(labels={"click": "click"}, path=str(FIXTURE), categorical=["pri*"],
                       numeric=["price"])  # fmt: skip
    with pytest.raises(ConfigError, match="'price' is listed under both categorical and numeric"):
        data.load()


def test_a_timestamp_of_dates_orders_a_time_split(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    order = np.random.default_rng(0).permutation(40)  # the file is not in time order
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d")[order], "day_index": order,
                          "x": np.ones(40)})  # fmt: skip
    frame.to_csv(tmp_path / "days.csv", index=False)
    data = TabularFile(labels={"n": "day_index"}, path=str(tmp_path / "days.csv"), numeric=["x"],
                       timestamp="day", split={"by": "time", "val": 0.1, "test": 0.1})  # fmt: skip
    splits = data.prepare(DataNeeds(labels={"n": False})).splits
    assert sorted(splits["test"].labels["n"].tolist()) == [36, 37, 38, 39]  # the newest days
    assert sorted(splits["val"].labels["n"].tolist()) == [32, 33, 34, 35]
    seconds = timestamp_values(pd.Series(["1970-01-02", None, "1970-01-01 00:01"], name="t"))
    assert seconds[0] == 86400 and np.isnan(seconds[1]) and seconds[2] == 60
    with pytest.raises(ConfigError, match="timestamp column 't' holds 1 values that are neither"):
        timestamp_values(pd.Series(["2024-01-01", "soon"], name="t"))


def test_a_column_derived_from_a_label_is_kept_out_by_exclude(tmp_path: Path) -> None:
    frame = pd.DataFrame({"wage": np.linspace(20, 300, 50), "age": np.arange(50)})
    frame["logwage"] = np.log(frame["wage"])
    frame.to_csv(tmp_path / "wage.csv", index=False)
    data = TabularFile(labels={"wage": "wage"}, path=str(tmp_path / "wage.csv"),
                       numeric=["age", "logwage"], exclude=["logwage"])  # fmt: skip
    with pytest.raises(ConfigError, match=r"data\.exclude names logwage"):
        data.load()
    data = TabularFile(labels={"wage": "wage"}, path=str(tmp_path / "wage.csv"),
                       numeric=["age", "wage"])  # fmt: skip
    with pytest.raises(ConfigError, match="leakage: column 'wage'"):
        data.prepare(DataNeeds(labels={"wage": False}))


@pytest.mark.slow  # trains a tiny run in-process (several seconds): CI runs it
def test_coerce_and_indicators_through_the_cli(workdir: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    price = lines[0].split(",").index("price")
    for i in range(1, len(lines), 10):  # 30 rows "?": some of them are train rows
        row = lines[i].split(",")
        row[price] = "?"
        lines[i] = ",".join(row)
    (workdir / "log.csv").write_text("\n".join(lines) + "\n")
    cli_main(["train", "data=tabular_example", f"data.path={workdir / 'log.csv'}", "task=[click]",
              "data.coerce=true", "data.missing_indicator=true", "data.split.by=random", *TINY,
              "hydra.run.dir=run"])  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["data/coerced/price"] == 30
    assert s["data/missing_indicators"] == ["price_missing"]
