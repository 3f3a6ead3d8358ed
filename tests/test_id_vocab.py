"""``data.min_count`` and ``data.hash_buckets``: counted on train only, rare values share the unseen
row, a hash stable across processes, saved in the run's preprocessing, refused when malformed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import cli, shared

from mtfw.data.id_vocab import check_per_column, stable_hash
from mtfw.data.preprocess import Preprocessor
from mtfw.errors import ConfigError

TRAIN = pd.DataFrame(
    {"user": ["a"] * 3 + ["b"] * 2 + ["c"], "item": ["x", "y", "x", "z", "x", "y"]}
)
# Common in val, but seen once in train: ``c`` still falls under min_count=2.
VAL = pd.DataFrame({"user": ["c"] * 5 + ["a", "new"], "item": ["x"] * 7})


def fitted(**kwargs) -> Preprocessor:
    return Preprocessor(["user", "item"], [], **kwargs).fit(TRAIN)


def test_min_count_counts_train_only_and_rare_values_share_the_unseen_row() -> None:
    pre = fitted(min_count={"user": 2, "item": 2})
    assert pre.vocab == {"user": ["a", "b"], "item": ["x", "y"]}
    assert pre.vocab_sizes == [3, 3]  # row 0: unseen or rare
    cat, _ = pre.transform(VAL)
    assert cat[:, 0].tolist() == [0, 0, 0, 0, 0, 1, 0]  # c (once in train) and new: row 0
    cat, _ = pre.transform(TRAIN)
    assert cat[:, 1].tolist() == [1, 2, 1, 0, 1, 2]  # z once: row 0


def test_min_count_per_column_and_one_keeps_every_value() -> None:
    assert fitted(min_count={"user": 3}).vocab == {"user": ["a"], "item": ["x", "y", "z"]}
    assert fitted(min_count={"user": 1}).vocab == fitted().vocab


def test_hash_buckets_map_every_value_into_rows_1_to_n() -> None:
    pre = fitted(hash_buckets={"item": 4})
    assert pre.vocab_sizes == [4, 5] and pre.vocab["item"] == []
    cat, _ = pre.transform(pd.DataFrame({"user": ["a"], "item": ["never seen"]}))
    assert 1 <= int(cat[0, 1]) <= 4  # an unseen value still has its bucket
    ids = stable_hash(pd.Series(["x", "y", "z", "x"]), 4)
    assert ids[0] == ids[3] and set(ids) <= {1, 2, 3, 4}


def test_buckets_under_min_count_go_to_row_0() -> None:
    pre = fitted(hash_buckets={"item": 1000}, min_count={"item": 2})
    bucket = dict(zip("xyz", stable_hash(pd.Series(list("xyz")), 1000).tolist(), strict=True))
    assert pre.kept_buckets["item"] == sorted([bucket["x"], bucket["y"]])
    cat, _ = pre.transform(TRAIN)
    assert cat[:, 1].tolist() == [
        bucket["x"],
        bucket["y"],
        bucket["x"],
        0,
        bucket["x"],
        bucket["y"],
    ]


def test_the_hash_is_the_same_in_another_process_and_pinned() -> None:
    values = ["205:17", "a", "", "0", "\u00e9t\u00e9"]
    here = stable_hash(pd.Series(values), 1_000_003).tolist()
    code = (
        "import pandas as pd; from mtfw.data.id_vocab import stable_hash; "
        f"print(stable_hash(pd.Series({values!r}), 1_000_003).tolist())"
    )
    env = {"PYTHONHASHSEED": "12345"}  # Python's own hash() would differ with it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, **env}).stdout  # fmt: skip
    assert json.loads(out) == here
    assert stable_hash(pd.Series(["1", "2"]), 1 << 62).tolist() == [
        15289156711003816966 % (1 << 62) + 1, 15865429583590377110 % (1 << 62) + 1,
    ]  # fmt: skip


def test_the_settings_travel_with_the_saved_preprocessing() -> None:
    pre = fitted(hash_buckets={"item": 8}, min_count={"user": 2, "item": 3})
    again = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert again.min_count == pre.min_count and again.hash_buckets == {"item": 8}
    assert again.kept_buckets == pre.kept_buckets and again.vocab_sizes == pre.vocab_sizes
    assert again.transform(VAL)[0].equal(pre.transform(VAL)[0])


@pytest.mark.parametrize(
    ("name", "value", "low"),
    [("min_count", 0, 1), ("min_count", 2.5, 1), ("min_count", {"user": 0}, 1),
     ("hash_buckets", 1, 2), ("hash_buckets", True, 2), ("hash_buckets", "many", 2)],
)  # fmt: skip
def test_bad_values_are_refused(name: str, value: object, low: int) -> None:
    with pytest.raises(ConfigError, match=f"data.{name}=.*whole number >= {low}"):
        check_per_column(name, value, low)


def ali_ccp(folder: Path) -> list[str]:
    """``data=ali_ccp`` on the shared 100/50/50-row sample files (``folder``: absent ones)."""
    files = {s: folder / f"ali_ccp_{s}_sample.csv" for s in ("train", "val", "test")}
    return ["data=ali_ccp", *(f"data.files.{s}={p}" for s, p in files.items()),
            "task=[click,purchase]", "trainer.max_epochs=1", "trainer.batch_size=32"]  # fmt: skip


@pytest.mark.slow  # trains through the real CLI
def test_the_cli_records_min_count_and_hash_buckets(tmp_path: Path) -> None:
    args = ali_ccp(shared("samples/ali-ccp"))
    cli("train", *args, "data.min_count=2", "data.hash_buckets={205: 16}", "hydra.run.dir=run",
        cwd=tmp_path)  # fmt: skip
    saved = json.loads((tmp_path / "run" / "preprocess.json").read_text())
    assert saved["hash_buckets"] == {"205": 16} and saved["vocab"]["205"] == []
    assert set(saved["min_count"]) == set(saved["categorical"])  # every field: 2
    train = pd.read_csv(shared("samples/ali-ccp") / "ali_ccp_train_sample.csv", dtype=str)
    counts = train["207"].value_counts()
    assert saved["vocab"]["207"] == sorted(counts.index[counts >= 2])  # train's counts only
    result = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert result["status"] == "completed" and result["data/min_count"] == 2


@pytest.mark.slow  # the real CLI, a few seconds per case
@pytest.mark.parametrize("override", ["data.min_count=0", "data.hash_buckets=1"])
def test_the_cli_refuses_bad_values_before_data_loads(override: str, tmp_path: Path) -> None:
    args = ali_ccp(tmp_path)  # files that do not exist: refused before they are looked for
    proc = cli("train", *args, override, "hydra.run.dir=run", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and f"{override}: expected a whole number" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()
