"""The guessing rules of ``mtfw init``, by hand: column kinds, label specs and task types, columns
derived from a label, and YAML values that stay what they are (``yes`` stays a string)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from mtfw.data.label_spec import derive_label
from mtfw.errors import ConfigError
from mtfw.starter.column_kinds import guess_column
from mtfw.starter.derived_columns import derived_reason
from mtfw.starter.label_tasks import plan_label
from mtfw.starter.starter_files import flow
from mtfw.starter.starter_plan import config_name, unique_name

N = 200
RNG = np.random.default_rng(0)
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "it"]


def column(name: str, values) -> pd.Series:
    return pd.Series(values, name=name)


@pytest.mark.parametrize(
    ("series", "kind", "reason"),
    [
        (column("job", RNG.choice(["a", "b", "c"], N)), "categorical",
         "3 distinct strings in 200 rows -> categorical"),
        (column("age", RNG.uniform(18, 80, N)), "numeric", "200 distinct -> numeric"),
        (column("kids", RNG.integers(0, 2, N)), "numeric", "0/1 ("),
        (column("spend", RNG.lognormal(0, 2, N)), "numeric", "-> numeric, log1p"),
        (column("price", [*map(str, range(N - 3)), "?", "?", "none given"]), "numeric",
         "but 3 values such as '?' -> numeric, coerce"),
        (column("rownames", np.arange(1, N + 1)), "id", "whole numbers unique per row (1..200)"),
        (column("person_id", np.repeat(np.arange(50), 4)), "id",
         "named like an id: 50 distinct values, up to 4 rows each -> id"),
        (column("userId", [f"u{i % 40}" for i in range(N)]), "id", "named like an id"),
        (column("order", [f"o{i}" for i in RNG.permutation(N)]), "id",
         "unique per row -> id, excluded"),
        (column("day", pd.date_range("2021-01-01", periods=N).strftime("%Y-%m-%d")), "timestamp",
         "parses as dates (2021-01-01..2021-07-19) -> timestamp"),
        (column("review", [" ".join(RNG.choice(WORDS, 12)) for _ in range(N)]), "text",
         "long free text (mean"),
        (column("region", ["2. Middle Atlantic"] * N), "constant",
         "one value ('2. Middle Atlantic') in every row -> constant, excluded"),
        (column("blank", [None] * N), "empty", "no values -> empty, excluded"),
        (column("flag", [True, False] * (N // 2)), "categorical", "true/false -> categorical"),
        (column("year", RNG.integers(1984, 1989, N)), "numeric", "(a year? timestamp: year"),
        (column("income", [None, *RNG.uniform(0, 1, N - 1)]), "numeric", ", 1 missing -> numeric"),
    ],
)  # fmt: skip
def test_column_kinds_by_hand(series: pd.Series, kind: str, reason: str) -> None:
    guess = guess_column(series)
    assert guess.kind == kind and reason in guess.reason, guess.reason


def test_a_guess_records_log1p_coerce_and_missing() -> None:
    assert guess_column(column("spend", RNG.lognormal(0, 2, N))).log1p
    price = guess_column(column("price", [*map(str, range(N - 2)), "?", None]))
    assert price.coerce and price.missing == 2  # "?" and the empty cell


def label(values, name: str = "y", count: bool = False):
    return plan_label(pd.Series(values, name=name), name, count)


@pytest.mark.parametrize(
    ("values", "spec", "task", "reason"),
    [
        (["yes", "no", "no", "no"], {"column": "y", "equals": "yes"}, "binary", "'yes' is 1 (25%)"),
        (["2. No", "1. Yes", "2. No"], {"column": "y", "equals": "1. Yes"}, "binary",
         "'1. Yes' is 1"),
        (["no", "maybe", "maybe"], {"column": "y", "equals": "maybe"}, "binary", "'no' is 0"),
        (["1. <=Good", "2. >=Very Good", "2. >=Very Good"],
         {"column": "y", "equals": "1. <=Good"}, "binary", "(33%)"),  # the rarer one
        ([0, 1, 1, 0], "y", "binary", "0/1 (50% ones)"),
        ([1, 2, 2, 1], {"column": "y", "min": 2.0}, "binary", "1 where 2"),
        ([0, 3, 1, 0, 9], "y", "regression", "whole numbers 0..9, mean 2.60 -> regression"),
        ([0.5, 3.2, 1.1], "y", "regression", "numbers 0.5..3.2"),
        (["1. low", "3. high", "2. mid"], {"column": "y", "map": {"1. low": 1, "2. mid": 2,
         "3. high": 3}}, "regression", "3 numbered values"),
        (["a", "b", "c", "a"], {"column": "y", "equals": "a"}, "binary", "1 for the most common"),
        (["yes", None, "no"], {"column": "y", "equals": "yes"}, "binary", "1 rows without a value"),
    ],
)  # fmt: skip
def test_label_specs_and_task_types(values: list, spec, task: str, reason: str) -> None:
    plan = label(values)
    assert (plan.spec, plan.task) == (spec, task) and reason in plan.reason, plan.reason
    derived = derive_label(pd.DataFrame({"y": values}), "y", plan.spec)[0]  # the spec works
    assert int(derived.isna().sum()) == plan.missing
    assert task != "binary" or set(derived.dropna().tolist()) == {0.0, 1.0}


def test_whole_numbers_are_a_count_where_that_task_type_exists() -> None:
    assert label([0, 3, 1, 0, 9], count=True).task == "count"
    assert "none is registered" in label([0, 3, 1, 0, 9]).note


def test_a_constant_label_is_refused() -> None:
    with pytest.raises(ConfigError, match="--label y: the column has 1 distinct value"):
        label(["yes"] * 5)


def test_columns_derived_from_a_label_are_found() -> None:
    wage = pd.Series(RNG.lognormal(4, 0.3, N))
    labels = {"wage": wage}
    assert "rank correlation 1.00 with the label 'wage'" in derived_reason(
        np.log(wage), "numeric", labels
    )
    rich = {"rich": (wage > 60).astype("float64")}
    assert "a threshold on it gives the label 'rich'" in derived_reason(wage, "numeric", rich)
    band = pd.Series(np.where(wage > 60, "high", "low"))
    assert "its value decides the label 'rich'" in derived_reason(band, "categorical", rich)
    assert derived_reason(pd.Series(RNG.uniform(size=N)), "numeric", labels) is None
    assert derived_reason(pd.Series(RNG.choice(["a", "b"], N)), "categorical", rich) is None


@pytest.mark.parametrize("value", ["yes", "no", "on", "1. Yes", "null", "1", {"equals": "yes"}])
def test_yaml_values_stay_what_they_are(value) -> None:
    text = f"key: {flow(value)}\n"
    assert yaml.safe_load(text)["key"] == value
    loaded = OmegaConf.create(text)["key"]
    assert (OmegaConf.to_container(loaded) if not isinstance(value, str) else loaded) == value


def test_names_are_config_names_unique_among_the_columns() -> None:
    assert config_name("marital-status") == "marital_status" and config_name("a.b c") == "a_b_c"
    assert unique_name("income", set()) == "income"  # a shipped name is kept: the user's wins
    assert unique_name("x", {"x", "x_2"}) == "x_3"
