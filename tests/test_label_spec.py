"""Labels declared in YAML: string labels, sets, thresholds, maps, where; the leakage guard and
``exclude``; all through ``data=tabular`` as a user writes them."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import TINY, cli, summary

from mtfw.data.label_spec import derive_label
from mtfw.errors import ConfigError

FRAME = pd.DataFrame({
    "income": [">50K", "<=50K", None, " >50K"],
    "status": ["Never-married", "Married", "Divorced", "Widowed"],
    "spend": [1.0, 200.0, None, 50.0],
    "click": [1, 0, 1, 0],
    "grade": ["low", "high", "mid", "low"],
})  # fmt: skip


def values(spec: dict) -> list[float]:
    return [None if math.isnan(v) else v for v in derive_label(FRAME, "y", spec)[0].tolist()]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"column": "income", "equals": ">50K"}, [1.0, 0.0, None, 1.0]),  # stripped, kept missing
        ({"column": "status", "in": ["Never-married", "Divorced"]}, [1.0, 0.0, 1.0, 0.0]),
        ({"column": "status", "not_in": ["Married"]}, [1.0, 0.0, 1.0, 1.0]),
        ({"column": "spend", "above": 100}, [0.0, 1.0, None, 0.0]),
        ({"column": "spend", "min": 1, "below": 100}, [1.0, 0.0, None, 1.0]),
        ({"column": "spend", "max": 50}, [1.0, 0.0, None, 1.0]),
        ({"column": "grade", "map": {"low": 0, "mid": 1, "high": 2}}, [0.0, 2.0, 1.0, 0.0]),
        ({"column": "spend", "where": "click"}, [1.0, None, None, None]),
    ],
)
def test_label_specs_by_hand(spec: dict, expected: list) -> None:
    assert values(spec) == expected


def test_every_label_source_is_known_to_the_leakage_guard() -> None:
    _, sources = derive_label(FRAME, "y", {"column": "spend", "where": "click", "above": 5})
    assert sources == ["spend", "click"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"column": "income"}, "holds text (e.g. '>50K'), not numbers: make it a label with"),
        ({"column": "grade", "map": {"low": 0}}, "no number for 2 value(s)"),
        ({"column": "spend", "equals": 1, "min": 2}, "not equals and thresholds"),
        ({"column": "spend", "abve": 1}, "Did you mean 'above'"),
        ({"column": "incme", "equals": "x"}, "no column 'incme'"),
        ({"column": "status", "in": "Married"}, "give a list of values"),
        ({"column": "spend", "min": "abc"}, "min='abc': a threshold is a number"),
        ({"column": "spend", "below": True}, "below=True: a threshold is a number"),
    ],
)
def test_bad_label_specs_say_what_is_allowed(spec: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=r"data\.labels\.y") as err:
        derive_label(FRAME, "y", spec)
    assert message in str(err.value)


def adult_like(folder: Path, n: int = 400) -> Path:
    rows = []
    for i in range(n):
        rows.append({
            "age": 20 + i % 50, "job": ["a", "b", "c"][i % 3], "person_id": f"p{i}",
            "income": ">50K" if (i % 50) > 30 else "<=50K",
            "marital-status": ["Never-married", "Married-civ-spouse"][i % 2],
        })  # fmt: skip
    path = folder / "people.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def own_data(folder: Path, **changes) -> Path:
    """A config folder with ``data/people.yaml``: a CSV with string labels, as a user writes it."""
    (folder / "conf" / "data").mkdir(parents=True)
    spec = {
        "name": "tabular", "path": str(adult_like(folder)), "categorical": ["job"],
        "numeric": ["age"], "exclude": ["person_id"],
        "labels": {"income": {"column": "income", "equals": ">50K"},
                   "marital": {"column": "marital-status", "equals": "Never-married"}},
        **changes,
    }  # fmt: skip
    (folder / "conf" / "data" / "people.yaml").write_text(yaml.safe_dump(spec))
    return folder / "conf"


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_string_labels_train_through_the_cli(workdir: Path) -> None:
    conf = own_data(workdir)
    cli("train", f"--config-dir={conf}", "data=people", "task=[income,marital]", *TINY,
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and 0 <= s["test/income/auc"] <= 1
    assert s["test/marital/auc"] is not None


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_an_excluded_column_is_never_an_input(workdir: Path) -> None:
    conf = own_data(workdir / "a", categorical=["job", "person_id"])
    proc = cli("train", f"--config-dir={conf}", "data=people", "task=[income]", *TINY,
               "hydra.run.dir=run", cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "data.exclude names person_id" in proc.stderr
    conf = own_data(workdir / "b", categorical=["job", "income"])
    proc = cli("train", f"--config-dir={conf}", "data=people", "task=[income]", *TINY,
               "hydra.run.dir=run2", cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "leakage" in proc.stderr
