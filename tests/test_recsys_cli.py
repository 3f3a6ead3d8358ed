"""The recommendation case end to end through the command line, on the real MovieLens-100K:
train the seed experiment, compare a baseline on the same keys, write top-k lists."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import cli, summary
from recsys_support import interrupted_after_first_epoch, ml100k

QUICK = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=5", "trainer.num_threads=1"]
RANKING = [f"test/ranking/{m}@{k}" for m in ("precision", "recall", "ndcg", "hit_rate",
                                             "coverage", "ild", "long_tail")
           for k in (5, 10, 20)]  # fmt: skip


@pytest.fixture(scope="module")
def mtl_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("ml100k")
    run_dir = where / "mtl"
    cli("train", "experiment=ml100k_mtl", *ml100k(), *QUICK, f"hydra.run.dir={run_dir}", cwd=where)
    return run_dir


def seen_items() -> dict[str, set[str]]:
    from mtfw.data.movielens import MovieLens100K

    options = dict(o.removeprefix("data.").split("=", 1) for o in ml100k())
    frames = MovieLens100K(path=options.get("path"), root=options.get("root"),
                           download=False).load_frames()  # fmt: skip
    return frames.interactions.groupby("user")["item"].agg(set).to_dict()


def test_seed_case_reports_ranking_and_interest_metrics(mtl_run: Path) -> None:
    s = summary(mtl_run)
    assert s["status"] == "completed" and s["data/n_users"] == 943 and s["data/n_items"] == 1682
    for key in [*RANKING, "test/interest/auc", "test/interest/f1", "test/interest/auc_Drama"]:
        assert 0.0 <= s[key] <= 1.0, key
    assert s["test/ranking/recall@20"] >= s["test/ranking/recall@5"]
    assert s["data/split"] == "time" and s["data/n_test_users"] == 943


def test_a_baseline_reports_the_same_ranking_keys(mtl_run: Path, workdir: Path) -> None:
    cli("train", "experiment=ml100k_popularity", *ml100k(), "hydra.run.dir=pop", cwd=workdir)
    pop, mtl = summary(workdir / "pop"), summary(mtl_run)
    ranking_keys = {k for k in mtl if k.startswith(("val/ranking/", "test/ranking/"))}
    ranking_keys = {k for k in ranking_keys if "/ild_embedding@" not in k}  # MTL's item vectors
    assert ranking_keys == {k for k in pop if k.startswith(("val/ranking/", "test/ranking/"))}
    assert pop["baseline"] == "popularity" and pop["data/split_hash_test"] == mtl[
        "data/split_hash_test"]  # fmt: skip
    assert (workdir / "pop" / "baseline.pt").is_file()


def test_beyond_accuracy_tells_a_popularity_list_from_a_personal_one(
    mtl_run: Path, workdir: Path
) -> None:
    """The most-popular list is the least diverse there is: every user gets the short head, so
    exposure is concentrated (Gini near 1), nothing is from the long tail, novelty is lowest;
    item-based CF personalises. Neither has item vectors (no ild_embedding); the MTL model has."""
    for name in ("popularity", "itemcf"):
        cli("train", f"experiment=ml100k_{name}", *ml100k(), f"hydra.run.dir={name}", cwd=workdir)
    pop, itemcf, mtl = (summary(workdir / d) for d in ("popularity", "itemcf", mtl_run))
    assert pop["test/ranking/long_tail@10"] == 0.0 and pop["test/ranking/gini@10"] > 0.95
    assert itemcf["test/ranking/gini@10"] < pop["test/ranking/gini@10"]
    assert itemcf["test/ranking/novelty@10"] > pop["test/ranking/novelty@10"] > 0
    assert itemcf["test/ranking/long_tail@10"] > 0
    assert "test/ranking/ild_embedding@10" not in pop | itemcf  # no item vectors to measure by
    assert 0 < pop["test/ranking/ild@10"] < 1 and 0 < mtl["test/ranking/ild_embedding@10"] <= 2


def test_recommend_excludes_seen_items(mtl_run: Path, workdir: Path) -> None:
    out = workdir / "top.csv"
    cli("recommend", str(mtl_run), "k=7", f"out={out}", cwd=workdir)
    table = pd.read_csv(out, dtype={"user": str, "item": str})
    seen = seen_items()
    assert table["user"].nunique() == 943 and (table.groupby("user").size() == 7).all()
    assert all(item not in seen[user] for user, item in zip(table["user"], table["item"],
                                                            strict=True))  # fmt: skip
    first = table[table["user"] == "1"]
    assert first["rank"].tolist() == list(range(1, 8)) and first["score"].is_monotonic_decreasing


def test_recommend_for_chosen_users_new_users_and_candidate_items(mtl_run, workdir) -> None:
    proc = cli("recommend", str(mtl_run), "users=5,1", "k=3", cwd=workdir)
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["user", "rank", "item", "score"] and len(lines) == 7
    assert [line.split()[0] for line in lines[1:]] == ["5"] * 3 + ["1"] * 3
    new = workdir / "new.csv"
    new.write_text("id,age,gender,occupation,zip_prefix\nn1,25,F,student,94\n")
    proc = cli("recommend", str(mtl_run), f"users_file={new}", "k=2", "items=1,2,3", cwd=workdir)
    assert [line.split()[0] for line in proc.stdout.splitlines()[1:]] == ["n1", "n1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users=1,99999"], "1 unknown user(s), e.g. 99999"),
        (["items=1,nope"], "unknown item(s) nope"),
        (["k=3", "colour=red"], "unknown option 'colour=red'"),
    ],
)
def test_recommend_rejects_unknown_users_items_options(mtl_run, workdir, args, message) -> None:
    proc = cli("recommend", str(mtl_run), *args, cwd=workdir, check=False)
    assert proc.returncode == 2 and message in proc.stderr


def test_monitoring_a_metric_the_model_cannot_measure_is_refused(workdir: Path) -> None:
    monitor = "trainer.monitor=val/ranking/ild_embedding@10"
    proc = cli("train", "experiment=ml100k_popularity", *ml100k(), "hydra.run.dir=pop", monitor,
               cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "ild_embedding needs a model with item vectors" in proc.stderr


@pytest.mark.slow  # end to end, tens of seconds: CI runs it
def test_recommend_refuses_a_corrupt_checkpoint(mtl_run: Path, workdir: Path) -> None:
    import shutil

    copy = workdir / "copy"
    shutil.copytree(mtl_run, copy)
    (copy / "best.pt").write_bytes(b"not a checkpoint")
    proc = cli("recommend", str(copy), "users=1", cwd=workdir, check=False)
    assert proc.returncode == 2 and "best.pt is not a readable mtfw checkpoint" in proc.stderr
    (copy / "best.pt").unlink()
    proc = cli("recommend", str(copy), "users=1", cwd=workdir, check=False)
    assert proc.returncode == 2 and "best.pt is missing" in proc.stderr


def test_recommend_on_a_run_of_an_earlier_version_names_that_version(mtl_run, workdir) -> None:
    """mtfw 0.1.x saved best.pt as {'model': ...} with its own model layout."""
    import shutil

    import torch

    old = workdir / "old"
    shutil.copytree(mtl_run, old)
    state = torch.load(old / "best.pt", weights_only=True)["model"]
    torch.save({"model": state}, old / "best.pt")
    proc = cli("recommend", str(old), "users=1", cwd=workdir, check=False)
    assert proc.returncode == 2 and "written by mtfw 0.1.x" in proc.stderr, proc.stderr
    assert "mtfw reproduce" in proc.stderr  # and what to do about it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["task=[ranking]"], "task 'ranking' (ranking) needs interaction data"),
        (["data=movielens100k", "task=[income]"], "task 'income' (binary) needs a flat table"),
        (["data=movielens100k", "task=[ranking]", "encoder=esmm"], "encoder=esmm needs a flat"),
        (["experiment=ml100k_popularity", "task=[ranking,interest]"], "produces rankings only"),
        (["experiment=ml100k_mtl", "trainer.monitor=val/ranking/ndcg@11"], "ndcg@10"),
        (["history=sasrec"], "history=sasrec needs interaction data"),
    ],
)
def test_misconfigured_recommendation_runs_fail_clearly(workdir, args, message) -> None:
    proc = cli("train", *args, *ml100k(), *QUICK, cwd=workdir, check=False)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-800:]


@pytest.mark.slow
def test_sasrec_history_with_rating_and_like_tasks(workdir: Path) -> None:
    cli("train", "data=movielens100k", "history=sasrec", "task=[ranking,rating,like]",
        "trainer.monitor=val/ranking/ndcg@10", "embedding.dim=16", *ml100k(), *QUICK,
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert 0.5 < s["test/rating/rmse"] < 3.0 and 0 <= s["test/like/auc"] <= 1
    assert s["test/ranking/ndcg@10"] > 0


@pytest.mark.slow
def test_cold_start_split_recommends_from_features_alone(workdir: Path) -> None:
    cli("train", "experiment=ml100k_mtl", "data.split.by=cold_start", "data.user_id_feature=false",
        *ml100k(), *QUICK, "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["data/split"] == "cold_start" and s["data/n_test_users"] == round(943 * 0.1)
    assert s["test/ranking/hit_rate@20"] > 0


@pytest.mark.slow  # trains and evaluates on MovieLens-100K, twice
@pytest.mark.parametrize("history", ["mean", "sasrec"])
def test_packed_history_steps_are_batches_of_interactions(history: str, workdir: Path) -> None:
    """Packed training (windows of the users' sequences): trainer.batch_size still counts
    interactions, and so do the samples/s."""
    from mtfw.trainer.checkpoint import load

    cli("train", "experiment=ml100k_mtl", f"history={history}", *ml100k(), *QUICK,
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    state = load(workdir / "run" / "checkpoint.pt")["state"]
    assert state["step"] == 5 and state["train_samples"] == 5 * 1024
    s = summary(workdir / "run")
    assert s["samples_per_second"] == pytest.approx(5 * 1024 / s["train_seconds"])
    assert s["test/ranking/ndcg@10"] > 0


def test_a_training_window_context_outside_the_window_is_refused_before_data_loads(
    workdir: Path,
) -> None:
    proc = cli("train", "experiment=ml100k_mtl", "history=sasrec", "data.history_length=20",
               "history.positions=absolute", "history.min_context=20", "data.path=nowhere",
               "data.download=false", "data.registry=false", cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "history.min_context=20 is out of range for data.history_length=20" in proc.stderr
    assert "allowed 0 to 19" in proc.stderr and not (workdir / "outputs").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["history.positions=rotary"], "history.positions"),
        (["history.min_context=10"], "history.min_context=10 applies to history.positions"),
    ],
)
def test_sasrec_positions_are_checked_before_data_loads(workdir: Path, overrides, message) -> None:
    proc = cli("train", "experiment=ml100k_mtl", "history=sasrec", *overrides, "data.path=nowhere",
               "data.download=false", "data.registry=false", cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message in proc.stderr and not (workdir / "outputs").exists()


@pytest.mark.slow  # two MovieLens-100K runs and a reproduce per history encoder
@pytest.mark.parametrize("history", ["mean", "sasrec"])
def test_interrupted_run_resumes_to_identical_metrics_and_reproduces(
    history: str, workdir: Path
) -> None:
    """The shuffle (of the windows, packed) and the negatives are drawn from (seed, epoch): a
    resumed run sees the same batches."""
    from hydra import compose, initialize_config_dir

    from mtfw.preflight import CONF_DIR
    from mtfw.train import resume_run, run

    overrides = ["experiment=ml100k_mtl", f"history={history}", *ml100k(),
                 "trainer.max_epochs=2", "trainer.max_steps_per_epoch=20"]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    whole = run(cfg, workdir / "whole")
    broken = interrupted_after_first_epoch(cfg, workdir / "broken")
    assert summary(broken)["status"] == "interrupted" and summary(broken)["epochs_trained"] == 1
    resumed = resume_run(broken, [])
    metrics = {k: v for k, v in whole.items() if k.startswith(("val/", "test/"))}
    assert metrics == {k: resumed[k] for k in metrics}
    proc = cli("reproduce", str(workdir / "broken"), f"out={workdir / 'again'}", cwd=workdir)
    assert proc.returncode == 0


@pytest.mark.slow
def test_task_weight_sweep_on_movielens_targets_ndcg(workdir: Path) -> None:
    cli("sweep", "sweep=task_weights", "experiment=ml100k_mtl", "sweep.n_trials=2", *ml100k(),
        *QUICK, "sweep.dir=sweep", cwd=workdir)  # fmt: skip
    trials = pd.read_csv(workdir / "sweep" / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 2
    assert {"val/ranking/ndcg@10", "val/interest/auc"} <= set(trials.columns)


@pytest.mark.slow  # MovieLens-100K through the CLI: CI runs it
@pytest.mark.parametrize("by", ["leave_one_out", "random"])
def test_movielens_trains_with_the_per_user_holdouts_papers_use(by: str, workdir: Path) -> None:
    cli("train", "experiment=ml100k_mtl", *ml100k(), *QUICK, f"data.split.by={by}",
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["data/split"] == by
    # every MovieLens-100K user rated 20 films or more: one held out (leave-one-out), or 10%
    assert s["data/n_test"] == 943 if by == "leave_one_out" else s["data/n_test"] > 9000
    assert "test/ranking/ndcg@10" in s
