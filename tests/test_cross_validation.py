"""K-fold cross-validation: fold assignment (flat rows, stratified, grouped, per-user and
cold-start folds), every bad input, the ``cv=K`` shortcut, and ``mtfw report`` over folds."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import TINY, cli, summary
from recsys_support import prepare_tiny, tiny_frames

from mtfw.cross_validation import expand_cv
from mtfw.data.folds import FoldError, assign_folds
from mtfw.data.interactions.dataset import InteractionDataset
from mtfw.data.interactions.split import assign
from mtfw.data.split import SplitError, SplitSpec
from mtfw.errors import ConfigError
from mtfw.report.command import report
from mtfw.report.significance import paired_t_test

N = 1000


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "y": (rng.random(N) < 0.06).astype(np.float32),  # rare positives, as census income
        "user": rng.integers(0, 150, N),
        "kind": rng.choice(["a", "b", "c"], N),
        "spend": rng.random(N) * 100,
    })  # fmt: skip


def folds_of(table: pd.DataFrame, k: int = 5, **keys) -> list[dict[str, np.ndarray]]:
    return [
        SplitSpec.from_config({"folds": k, "fold": i, **keys}).indices(N, None, None, table)
        for i in range(k)
    ]


SETTINGS = [{}, {"stratify": "y"}, {"group": "user"}, {"stratify": "y", "group": "user"}]


@pytest.mark.parametrize("keys", SETTINGS, ids=["plain", "stratified", "grouped", "both"])
def test_every_row_is_in_exactly_one_test_fold_and_val_never_sees_it(table, keys) -> None:
    folds = folds_of(table, **keys)
    tested = np.concatenate([f["test"] for f in folds])
    assert np.array_equal(np.sort(tested), np.arange(N))  # each row tested once, across i
    for f in folds:
        assert not set(f["val"]) & set(f["test"]) and not set(f["train"]) & set(f["test"])
        assert not set(f["val"]) & set(f["train"])
        assert len(f["train"]) + len(f["val"]) + len(f["test"]) == N
        rest = N - len(f["test"])
        assert abs(len(f["val"]) - 0.1 * rest) <= (3 if "group" not in keys else 25)
    sizes = [len(f["test"]) for f in folds]
    assert max(sizes) - min(sizes) <= (1 if "group" not in keys else 25)


@pytest.mark.parametrize("keys", SETTINGS[2:], ids=["grouped", "both"])
def test_no_group_sits_in_two_folds_nor_in_train_and_val(table, keys) -> None:
    users = table["user"].to_numpy()
    for f in folds_of(table, **keys):
        parts = [set(users[f[s]]) for s in ("train", "val", "test")]
        assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]


def test_stratified_folds_spread_the_positives_within_one(table) -> None:
    y = table["y"].to_numpy()
    per_fold = [int(y[f["test"]].sum()) for f in folds_of(table, stratify="y")]
    assert sum(per_fold) == int(y.sum()) and max(per_fold) - min(per_fold) <= 1
    plain = [int(y[f["test"]].sum()) for f in folds_of(table)]
    assert max(plain) - min(plain) > 1  # unstratified folds of this table are uneven
    kinds = table["kind"].to_numpy()  # a categorical label: each class within one
    for kind in "abc":
        counts = [int((kinds[f["test"]] == kind).sum()) for f in folds_of(table, stratify="kind")]
        assert max(counts) - min(counts) <= 1
    both = [int(y[f["test"]].sum()) for f in folds_of(table, stratify="y", group="user")]
    assert max(both) - min(both) <= 2  # whole groups: as even as the groups allow


def test_folds_are_seeded_and_deterministic(table) -> None:
    for keys in SETTINGS:
        again = folds_of(table, **keys)
        for a, b in zip(folds_of(table, **keys), again, strict=True):
            assert all(np.array_equal(a[s], b[s]) for s in a)
        other = folds_of(table, seed=1, **keys)
        assert not np.array_equal(other[0]["test"], again[0]["test"])
    val0 = folds_of(table, val=0.1)[0]
    val2 = folds_of(table, val=0.2)[0]
    assert np.array_equal(val0["test"], val2["test"])  # the val share never moves the folds


def test_fold_assignment_directly() -> None:
    fold = assign_folds(3, 0, 10)
    assert sorted(np.bincount(fold)) == [3, 3, 4]
    groups = np.array([0, 0, 0, 0, 1, 1, 2, 3, 3, 3])
    fold = assign_folds(2, 0, 10, groups=groups)
    assert all(len(set(fold[groups == g])) == 1 for g in range(4))
    assert sorted(np.bincount(fold)) == [5, 5]  # {0, 2}: 5 rows; {1, 3}: 5 rows


def tiny_parts(spec: SplitSpec) -> dict[tuple[str, str], str]:
    frame = tiny_frames().interactions
    return dict(zip(zip(frame["user"], frame["item"], strict=True), assign(spec, frame),
                    strict=True))  # fmt: skip


def test_per_user_folds_of_interactions() -> None:
    k = 3
    got = [tiny_parts(SplitSpec(by="random", folds=k, fold=i, seed=0)) for i in range(k)]
    for user, n in (("u1", 6), ("u2", 3), ("u4", 4)):  # >= 3 interactions: tested
        tested = [pair for g in got for pair, p in g.items() if pair[0] == user and p == "test"]
        assert sorted(tested) == sorted(pair for pair in got[0] if pair[0] == user)  # once each
        for g in got:
            mine = [p for pair, p in g.items() if pair[0] == user]
            assert mine.count("test") >= n // k and mine.count("val") >= 1
            assert mine.count("train") >= 1
    assert {p for g in got for pair, p in g.items() if pair[0] == "u3"} == {"train"}  # 2 < 3
    assert tiny_parts(SplitSpec(by="random", folds=k, fold=1, seed=0)) == got[1]  # seeded
    prepared = prepare_tiny(split=SplitSpec(by="random", folds=k, fold=0, seed=0))
    assert prepared.info["data/cv_train_only_users"] == 1  # u3, said in the summary
    assert prepared.info["data/split_folds"] == 3 and prepared.info["data/split_fold"] == 0


def test_cold_start_folds_hold_out_whole_users() -> None:
    got = [tiny_parts(SplitSpec(by="cold_start", folds=2, fold=i, val=0.5)) for i in range(2)]
    tested = [{u for (u, _), p in g.items() if p == "test"} for g in got]
    assert not tested[0] & tested[1] and tested[0] | tested[1] == {"u1", "u2", "u3", "u4"}
    for g in got:  # every interaction goes with its user
        by_user = pd.Series(g).groupby(level=0).nunique()
        assert (by_user == 1).all()


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"folds": 1, "fold": 0}, "needs at least 2 folds"),
        ({"folds": 5, "fold": 5}, r"the test fold must be one of 0..4; all of them: -m "),
        ({"folds": 5}, r"data.split.fold=None with data.split.folds=5"),
        ({"fold": 2}, "data.split.fold=2 is a cross-validation setting, but data.split.folds"),
        ({"stratify": "y"}, "data.split.stratify=y is a cross-validation setting"),
        ({"group": "user"}, "data.split.group=user is a cross-validation setting"),
        ({"folds": 3, "fold": 0, "by": "time"}, "data.split.by=time with data.split.folds"),
        ({"folds": 3, "fold": 0, "val": 0.0}, "needs a val share > 0"),
        ({"folds": "five", "fold": 0}, "folds"),
    ],
)
def test_bad_fold_settings_are_refused_before_any_data_loads(node, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        SplitSpec.from_config(node)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"folds": N + 1}, f"folds={N + 1} is more than the {N} rows"),
        ({"group": "user", "folds": 151}, "is more than the 150 groups of the data"),
        ({"stratify": "y", "folds": 100}, "more than the .* rows of the rarest class"),
        ({"stratify": "y", "group": "user", "folds": 60}, "groups holding rows of the rarest"),
        ({"stratify": "yy"}, r"has no column 'yy'. Did you mean 'y'\?"),
        ({"group": "usr"}, r"has no column 'usr'. Did you mean 'user'\?"),
        ({"stratify": "spend"}, "need a binary or categorical label .* 'spend' has 1000 distinct"),
        ({"stratify": "user"}, "'user' has 150 distinct values"),
    ],
)
def test_folds_the_data_cannot_hold_are_refused(table, keys, expected) -> None:
    spec = SplitSpec.from_config({"folds": 5, "fold": 0, **keys})
    with pytest.raises(FoldError, match=expected):
        spec.indices(N, None, None, table)


def test_refusals_on_pre_split_files_and_interaction_data() -> None:
    spec = SplitSpec.from_config({"folds": 2, "fold": 0})
    fixed = {s: np.arange(3) for s in ("train", "val", "test")}
    with pytest.raises(SplitError, match="comes split into files"):
        spec.indices(9, fixed)
    for key in ("stratify", "group"):
        with pytest.raises(SplitError, match=f"data.split.{key} applies to flat tables"):
            InteractionDataset({"by": "random", "folds": 2, "fold": 0, key: "rating"})
    with pytest.raises(SplitError, match="no user has 7 interactions"):
        tiny_parts(SplitSpec(by="random", folds=7, fold=0))
    with pytest.raises(FoldError, match="more than the 4 rows"):  # 4 users: rows of users
        tiny_parts(SplitSpec(by="cold_start", folds=5, fold=0))


def test_cv_shortcut_expands_to_the_fold_multirun() -> None:
    assert expand_cv(["cv=5", "encoder=mmoe,single_task"]) == [
        "-m", "data.split.folds=5", "data.split.fold=range(5)", "encoder=mmoe,single_task",
    ]  # fmt: skip
    assert expand_cv(["-m", "seed=0,1", "cv=2"]) == [
        "-m", "seed=0,1", "data.split.folds=2", "data.split.fold=range(2)",
    ]  # fmt: skip
    assert expand_cv(["seed=1"]) == ["seed=1"]
    for bad in (["cv=1"], ["cv=five"], ["cv=3,5"], ["cv=2", "cv=3"]):
        with pytest.raises(ConfigError, match="cv takes one number of folds K >= 2"):
            expand_cv(bad)
    with pytest.raises(ConfigError, match=r"drop data\.split\.fold=1"):
        expand_cv(["cv=5", "data.split.fold=1"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["data.split.folds=1", "data.split.fold=0"], "needs at least 2 folds"),
        (["data.split.folds=3", "data.split.fold=3"], "must be one of 0..2"),
        (["data.split.fold=1"], "but data.split.folds is not set"),
        (["cv=1"], "cv takes one number of folds"),
        (["cv=3", "data.split.folds=4"], "drop data.split.folds=4"),
        (["experiment=ml100k_mtl", "data.split.folds=3", "data.split.fold=0"],
         "data.split.by=time with data.split.folds"),
    ],
)  # fmt: skip
def test_cli_refuses_bad_fold_settings_with_exit_2(workdir: Path, args, expected) -> None:
    proc = cli("train", *args, *TINY, "hydra.sweep.dir=sweep", cwd=workdir, check=False)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert not (workdir / "sweep").exists() and not (workdir / "outputs").exists()


def test_cli_refuses_a_stratify_column_census_lacks(workdir: Path) -> None:
    proc = cli("train", "data.split.folds=2", "data.split.fold=0", "data.split.stratify=incme",
               *TINY, "hydra.run.dir=run", cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Did you mean 'income'?" in proc.stderr, proc.stderr


def fake_fold_run(run_dir: Path, encoder: str, seed: int, fold: int, auc: float) -> None:
    """A run directory as a fold of `mtfw train cv=K` leaves it, with a chosen test AUC."""
    (run_dir / ".hydra").mkdir(parents=True)
    config = {
        "seed": seed,
        "data": {"name": "census", "split": {"folds": 3, "fold": fold}},
        "encoder": {"name": encoder},
        "task": {"a": {"name": "binary", "metrics": ["auc"]}},
    }
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    s = {
        "status": "completed",
        "seed": seed,
        "monitor": "val/mean/loss",
        "monitor_value": 1 - auc,
        "val/a/auc": auc,
        "test/a/auc": auc,
        "data/split_folds": 3,
        "data/split_fold": fold,
    }
    (run_dir / "summary.json").write_text(json.dumps(s))
    (run_dir / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "val/a/auc": auc}) + "\n")


def test_report_puts_the_folds_in_one_row_and_pairs_tests_by_seed_and_fold(tmp_path) -> None:
    # fold f, seed s: the single-task AUC varies a lot by fold, MMoE is 0.01-0.02 above it
    single = {(s, f): 0.70 + 0.05 * f + 0.001 * s for s in (0, 1) for f in range(3)}
    mmoe = {(s, f): v + 0.01 + 0.002 * f + 0.001 * s for (s, f), v in single.items()}
    job = 0
    for (s, f), v in reversed(single.items()):  # made in another order than the MMoE runs
        fake_fold_run(tmp_path / "runs" / str(job), "single_task", s, f, v)
        job += 1
    for (s, f), v in mmoe.items():
        fake_fold_run(tmp_path / "runs" / str(job), "mmoe", s, f, v)
        job += 1
    text = report([str(tmp_path / "runs"), "--baseline", "single_task", "--format", "csv"])
    frame = pd.read_csv(pd.io.common.StringIO(text)).set_index("label")
    assert list(frame.index) == ["single_task", "mmoe"]  # one row each, folds and seeds pooled
    assert frame.loc["mmoe", "n"] == 6 and frame.loc["mmoe", "folds"] == "0 1 2"
    assert frame.loc["mmoe", "test/a/auc mean"] == pytest.approx(statistics.mean(mmoe.values()))
    assert frame.loc["mmoe", "test/a/auc std"] == pytest.approx(statistics.stdev(mmoe.values()))
    keys = sorted(single)
    _, p, n = paired_t_test([mmoe[k] for k in keys], [single[k] for k in keys])
    assert frame.loc["mmoe", "pairs a"] == n == 6
    assert frame.loc["mmoe", "p a"] == pytest.approx(p) and p < 0.001  # unpaired: far larger
    assert "paired by seed and data.split.fold" in frame.loc["mmoe", "test"]
    markdown = report([str(tmp_path / "runs"), "--baseline", "single_task"])
    assert "differ only by seed and data.split.fold" in markdown and "mixes runs" not in markdown


@pytest.mark.slow  # four tiny census trainings (a few seconds each) and a report
def test_cv_multirun_trains_every_fold_and_reports_them_as_rows(workdir: Path) -> None:
    cli("train", "cv=2", "encoder=mmoe,single_task", *TINY, "hydra.sweep.dir=cv", cwd=workdir)
    runs = sorted((workdir / "cv").glob("[0-9]*"), key=lambda p: int(p.name))
    summaries = [summary(r) for r in runs]
    # Hydra varies the last override fastest: fold 0 (mmoe, single_task), then fold 1
    assert [(s["data/split_folds"], s["data/split_fold"]) for s in summaries] == [
        (2, 0), (2, 0), (2, 1), (2, 1)]  # fmt: skip
    assert summaries[0]["data/n_test"] + summaries[2]["data/n_test"] == 99_762
    assert summaries[0]["data/split_hash_test"] == summaries[1]["data/split_hash_test"]  # paired
    assert "data.split.fold=1" in summaries[2]["command"]
    text = report([str(workdir / "cv"), "--baseline", "single_task", "--format", "csv"])
    frame = pd.read_csv(pd.io.common.StringIO(text)).set_index("label")
    assert list(frame.index) == ["mmoe", "single_task"] and set(frame["n"]) == {2}
    assert frame.loc["mmoe", "pairs income"] == 2
