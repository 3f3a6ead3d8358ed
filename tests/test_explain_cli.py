"""``mtfw explain RUN_DIR`` through the command line: the bad inputs (refused before any data
loads where possible), a flat run with ids, a sequence and a numeric field, an interaction run
(the KuaiRand sample, MovieLens-100K), and the ground truth of the synthetic generator."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import cli, composed, shared
from omegaconf import OmegaConf
from recsys_support import ml100k

CLICK_LOG = Path(__file__).parent / "fixtures" / "click_log.csv"
CLICK = ["data=tabular_example", f"data.path={CLICK_LOG}", "task=[click]", "encoder=mmoe",
         "trainer.max_epochs=2", "trainer.num_threads=1"]  # fmt: skip
TRUTH = ["experiment=synthetic", "data.fields={shared: 2, per_task: 2}", "data.input_dim=10",
         "data.n_samples=3000", "trainer.max_epochs=6", "trainer.num_threads=1"]  # fmt: skip
ROLES = {"y1": {"x0", "x1", "x2", "x3"}, "y2": {"x0", "x1", "x4", "x5"}}  # x0, x1 shared


def fake_run(where: Path, status: str | None = "completed", best: bool = True, **cfg) -> Path:
    """A run directory holding a composed config (and a summary, an empty best.pt): enough for
    every check made before data loads."""
    run = where / "run"
    (run / ".hydra").mkdir(parents=True)
    OmegaConf.save(composed(*[f"{k}={v}" for k, v in cfg.items()]), run / ".hydra/config.yaml")
    if status is not None:
        (run / "summary.json").write_text(json.dumps({"status": status}))
    if best:
        (run / "best.pt").write_bytes(b"")
    return run


def refused(*args: str, cwd: Path) -> str:
    """The error of a refused ``mtfw explain``: exit status 2, no traceback, nothing written."""
    before = set(cwd.rglob("*"))
    proc = cli("explain", *args, cwd=cwd, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and set(cwd.rglob("*")) == before
    return proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "usage: mtfw explain <run_dir>"),
        (("run", "methods=shap"), "unknown method 'shap'. Methods: permutation, integrated_grad"),
        (("run", "methods=permutaton"), "Did you mean 'permutation'?"),
        (("run", "split=train"), "split=train: give val (the default) or test"),
        (("run", "repeats=0"), "repeats=0: give a whole number >= 1"),
        (("run", "seeds=1"), "unknown option 'seeds=1'. Did you mean 'seed'?"),
        (("run", "fields="), "unknown option 'fields='"),
    ],
)
def test_bad_options_are_refused_before_anything_is_read(
    args: tuple[str, ...], message: str, workdir: Path
) -> None:
    assert message in refused(*args, cwd=workdir)


def test_an_unfinished_run_and_a_run_without_a_selected_model_are_refused(workdir: Path) -> None:
    run = fake_run(workdir, status=None)
    assert "did not complete (status none: no summary.json)" in refused(str(run), cwd=workdir)
    (run / "summary.json").write_text(json.dumps({"status": "interrupted"}))
    err = refused(str(run), cwd=workdir)
    assert "status interrupted" in err and "allow_unfinished=true to explain it" in err
    (run / "summary.json").write_text(json.dumps({"status": "completed"}))
    (run / "best.pt").unlink()
    assert "best.pt is missing: the run has no selected model" in refused(str(run), cwd=workdir)
    shutil.rmtree(run / ".hydra")
    assert "is not a run directory" in refused(str(run), cwd=workdir)


def test_an_unknown_task_and_a_baseline_run_are_refused(workdir: Path) -> None:
    run = fake_run(workdir)
    err = refused(str(run), "tasks=income,marriage", cwd=workdir)
    assert "unknown task 'marriage'. Did you mean 'marital'?" in err
    assert "The run's tasks: income, marital" in err
    shutil.rmtree(run)
    run = fake_run(workdir, experiment="ml100k_popularity")
    assert "classical recommender (baseline=popularity)" in refused(str(run), cwd=workdir)


def test_without_captum_integrated_gradients_name_the_pip_command(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = fake_run(workdir)
    monkeypatch.setitem(sys.modules, "captum", None)  # import captum raises ImportError
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    err = refused(str(run), cwd=workdir)
    assert "needs Captum, which is not installed" in err and "pip install 'mtfw[explain]'" in err
    assert "methods=permutation" in err


@pytest.fixture(scope="module")
def click_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("click")
    cli("train", *CLICK, "hydra.run.dir=run", cwd=where)
    return where / "run"


@pytest.mark.slow  # trains a (small) run, then explains it twice: about 20 s on two cores
def test_a_flat_run_explained_into_numbered_directories(click_run: Path, tmp_path: Path) -> None:
    run = shutil.copytree(click_run, tmp_path / "run")
    proc = cli("explain", str(run), "repeats=2", cwd=tmp_path)
    out = run / "explain" / "val"
    table = pd.read_csv(out / "importance.csv")
    assert list(table.columns) == ["task", "field", "method", "value", "std", "metric"]
    assert set(table["field"]) == {"user_id", "item_id", "hist", "price"}  # ids, sequence, numeric
    assert set(table["method"]) == {"permutation", "integrated_gradients"}
    assert set(table[table["method"] == "permutation"]["metric"]) == {"auc"}
    shares = table[table["method"] == "integrated_gradients"].groupby("task")["value"].sum()
    assert shares.to_numpy() == pytest.approx([1.0])
    for name in ("importance.md", "heatmap.png", "experts.csv", "experts.md"):
        assert (out / name).stat().st_size > 0, name
    assert "## permutation" in (out / "importance.md").read_text()
    experts = pd.read_csv(out / "experts.csv")
    assert set(experts["kind"]) == {"response", "utilisation"} and experts["expert"].nunique() == 8
    assert "Field -> expert -> task" in (out / "experts.md").read_text()
    assert "permutation" in proc.stdout and f"to {out}" in proc.stdout
    again = cli("explain", str(run), "methods=permutation", "fields=price,hist", "repeats=2",
                cwd=tmp_path)  # fmt: skip
    second = pd.read_csv(run / "explain" / "val-2" / "importance.csv")
    assert set(second["field"]) == {"hist", "price"} and "val-2" in again.stdout
    same = table.set_index(["field", "method"]).loc[("price", "permutation"), "value"]
    assert second.set_index("field").loc["price", "value"] == pytest.approx(same)  # seeded
    pd.testing.assert_frame_equal(table, pd.read_csv(out / "importance.csv"))  # untouched
    err = refused(str(run), "fields=price,histry", cwd=tmp_path)
    assert "unknown field(s) 'histry'. Did you mean 'hist'?" in err and "user_id, item_id" in err


@pytest.mark.slow  # trains on the KuaiRand sample, then explains it: about 15 s
def test_an_interaction_run_is_explained_with_its_history_field(workdir: Path) -> None:
    sample = shared("samples/kuairand/kuairand_sample.csv")
    cli("train", "data=kuairand", f"data.interactions.path={sample}", "task=[ranking,rating]",
        "task.rating.label=play_time_ms", "trainer.monitor=val/ranking/ndcg@10", "history=mean",
        "trainer.max_epochs=1", "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    cli("explain", "run", "repeats=1", "split=test", "out=why", cwd=workdir)
    table = pd.read_csv(workdir / "why" / "importance.csv")
    assert {"history", "user_id", "user_active_degree"} <= set(table["field"])
    metrics = table[table["method"] == "permutation"].set_index("task")["metric"].to_dict()
    assert metrics == {"ranking": "ndcg@10", "rating": "rmse"}
    assert not (workdir / "run" / "explain").exists()  # out= is where it writes


@pytest.mark.slow  # MovieLens-100K: trains a few steps, explains 943 users: about a minute
def test_movielens_mtl_run(tmp_path: Path) -> None:
    quick = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=5", "trainer.num_threads=1"]
    cli("train", "experiment=ml100k_mtl", *ml100k(), *quick, "hydra.run.dir=run", cwd=tmp_path)
    proc = cli("explain", "run", "repeats=1", cwd=tmp_path)
    table = pd.read_csv(tmp_path / "run" / "explain" / "val" / "importance.csv")
    assert {"history", "age", "gender", "occupation"} <= set(table["field"])
    assert set(table["task"]) == {"ranking", "interest"}
    assert "completeness, ranking" in proc.stdout


@pytest.mark.slow  # trains on the synthetic generator (3,000 rows), explains it: about 30 s
def test_attributions_find_each_tasks_true_fields(tmp_path: Path) -> None:
    """Both methods rank each task's own and shared inputs above the irrelevant ones and above
    the other task's own inputs."""
    cli("train", *TRUTH, "hydra.run.dir=run", cwd=tmp_path)
    truth = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert truth["data/fields/y1"] == ["x2", "x3"] and truth["data/fields/shared"] == ["x0", "x1"]
    cli("explain", "run", "repeats=3", cwd=tmp_path)
    table = pd.read_csv(tmp_path / "run" / "explain" / "val" / "importance.csv")
    for (method, task), part in table.groupby(["method", "task"]):
        values = part.set_index("field")["value"]
        true, others = values[sorted(ROLES[task])], values.drop(sorted(ROLES[task]))
        assert true.min() > others.max(), (method, task, values.to_dict())
    md = (tmp_path / "run" / "explain" / "val" / "importance.md").read_text()
    assert "Shared by several tasks: x0, x1." in md and "Specific to y1: x2, x3." in md


class Untouchable:
    """A split that fails the test on any use: explain must not read it."""

    def __getattr__(self, name: str):
        raise AssertionError(f"explain read the test split ({name})")

    def __len__(self) -> int:
        raise AssertionError("explain read the test split (len)")


@pytest.mark.slow  # explains a trained run (the click_run fixture), a few seconds
def test_the_test_split_is_never_read_unless_asked(
    click_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mtfw.explain.run as explain_run

    built = explain_run.build_experiment

    def without_test(cfg, **options):
        exp = built(cfg, **options)
        exp.data.splits["test"] = Untouchable()
        return exp

    monkeypatch.setattr(explain_run, "build_experiment", without_test)
    run = shutil.copytree(click_run, tmp_path / "run")
    cli("explain", str(run), "repeats=1", cwd=tmp_path)  # val: the test split stays unread
    with pytest.raises(AssertionError, match="explain read the test split"):  # the spy works
        cli("explain", str(run), "repeats=1", "split=test", cwd=tmp_path)
