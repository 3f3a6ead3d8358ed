"""Bad input ends in one clear paragraph and exit status 2, and leaves nothing behind (issue 13's
battery): values of the wrong type or out of range, broken data files, damaged run directories."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from conftest import TINY, cli, shared

from mtfw.cli import main as cli_main


def refused(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    """Run ``mtfw ARGV`` in-process; it must exit with status 2. Returns stderr."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("optim.lr=-0.1", "optim.lr=-0.1 is out of range: allowed [0, inf)"),
        ("optim.lr=fast", "optim.lr='fast': expected a number"),
        ("optim.betas=[2,3]", "optim.betas=2 is out of range: allowed [0, 1)"),
        ("encoder.expert.dropout=2", "encoder.expert.dropout=2 is out of range"),
        ("encoder.n_experts=2.5", "encoder.n_experts=2.5: expected a whole number"),
        ("trainer.max_epochs=three", "trainer.max_epochs='three': expected a whole number"),
        ("trainer.eval_batch_size=0", "trainer.eval_batch_size=0 is out of range"),
        ("trainer.max_steps_per_epoch=0", "trainer.max_steps_per_epoch=0 is out of range"),
        ("trainer.patience=-1", "trainer.patience=-1 is out of range: allowed [0, inf)"),
        ("trainer.device=tpu", "trainer.device='tpu' is not a device"),
        ("seed=abc", "seed='abc': expected a whole number"),
        ("embedding.dim=0", "embedding.dim=0 is out of range: allowed [1, inf)"),
        ("task.income.tower=[-5]", "task.income.tower=-5 is out of range: allowed [1, inf)"),
        ("task.income.weight=high", "task.income.weight='high': expected a number"),
    ],
)
def test_bad_values_are_refused_before_anything_is_written(
    override: str, expected: str, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    err = refused(["train", *TINY, override, "hydra.run.dir=run"], capsys)
    assert expected in err, err
    assert not (workdir / "run").exists()  # not even Hydra's .hydra/


def test_a_refusal_in_the_default_run_directory_leaves_no_empty_folders(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    """Hydra makes outputs/runs/<date>/<time>/ before mtfw's checks run; a refused run removes
    it and the folders above it that it left empty (the battery found outputs/runs/<date>/)."""
    err = refused(["train", *TINY, "optim.lr=-0.1"], capsys)
    assert "optim.lr=-0.1 is out of range" in err
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("tasks", ["task=[income,income]", "task=[income,marital,income]"])
def test_a_task_named_twice_is_refused(tasks: str, workdir: Path, capsys) -> None:
    err = refused(["train", tasks, "hydra.run.dir=run"], capsys)
    assert f"'{tasks}' names income more than once" in err
    assert not (workdir / "run").exists()


def test_a_deleted_group_is_named(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    err = refused(["train", "~trainer", "hydra.run.dir=run"], capsys)
    assert "the config has no trainer (removed with '~trainer'?)" in err
    assert not (workdir / "run").exists()


def broken_files(folder: Path) -> dict[str, Path]:
    good = shared("hillstrom/hillstrom.csv.gz").read_bytes()
    files = {"empty.csv": b"", "random.csv": bytes(range(256)) * 40,
             "truncated.csv.gz": good[: len(good) // 3], "fake.parquet": b"a,b\n1,2\n"}  # fmt: skip
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in files}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty.csv", "is empty"),
        ("random.csv", "cannot read data file"),
        ("truncated.csv.gz", "as gzip-compressed CSV"),
        ("fake.parquet", "as parquet"),
    ],
)
def test_broken_data_files_are_named_and_explained(
    name: str, expected: str, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    path = broken_files(workdir)[name]
    err = refused(["train", "data=hillstrom", f"data.path={path}", "task=[visit]", *TINY,
                   "hydra.run.dir=run"], capsys)  # fmt: skip
    assert expected in err and str(path) in err, err
    assert not (workdir / "run").exists()


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_damaged_run_directories_are_refused_clearly(tiny_run: Path, workdir: Path) -> None:
    garbage = workdir / "garbage"
    shutil.copytree(tiny_run, garbage)
    (garbage / "summary.json").write_text("{not json")
    proc = cli("reproduce", str(garbage), cwd=workdir, check=False)
    assert proc.returncode == 2 and "is not a readable run summary" in proc.stderr
    (garbage / "summary.json").unlink()
    (garbage / ".hydra" / "config.yaml").write_bytes(gzip.compress(b"x" * 100))
    proc = cli("train", f"resume={garbage}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "is not a readable config" in proc.stderr, proc.stderr
    proc = cli("recommend", str(workdir), cwd=workdir, check=False)
    assert proc.returncode == 2 and "is not a run directory" in proc.stderr


def test_report_names_a_summary_that_is_not_one(tiny_run: Path, workdir: Path) -> None:
    listed = workdir / "listed"
    shutil.copytree(tiny_run, listed)
    (listed / "summary.json").write_text(json.dumps([1, 2]))
    proc = cli("report", str(workdir), cwd=workdir, check=False)
    assert "summary.json is not a run summary" in proc.stdout + proc.stderr


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
@pytest.mark.parametrize(
    ("option", "expected"),
    [("k=ten", "k=ten: give a whole number"), ("k=0", "k=0: give a whole number")],
)
def test_recommend_k_must_be_a_positive_whole_number(option, expected, tiny_run, workdir) -> None:
    proc = cli("recommend", str(tiny_run), option, cwd=workdir, check=False)
    assert proc.returncode == 2 and expected in proc.stderr


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_recommend_refuses_an_unfinished_run_unless_told(tiny_run: Path, workdir: Path) -> None:
    unfinished = workdir / "unfinished"
    shutil.copytree(tiny_run, unfinished)
    summary = json.loads((unfinished / "summary.json").read_text())
    (unfinished / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    proc = cli("recommend", str(unfinished), "k=3", cwd=workdir, check=False)
    assert proc.returncode == 2 and "did not complete (status interrupted)" in proc.stderr
    assert "allow_unfinished=true" in proc.stderr
    proc = cli("recommend", str(unfinished), "k=3", "allow_unfinished=true", cwd=workdir,
               check=False)  # fmt: skip
    assert "did not complete" not in proc.stderr and "a flat table" in proc.stderr  # census


FIXTURE = Path(__file__).parent / "fixtures" / "click_log.csv"


def test_a_string_in_a_numeric_column_is_named(workdir: Path, capsys) -> None:
    lines = FIXTURE.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    row[header.index("price")] = "cheap"
    (workdir / "log.csv").write_text("\n".join([*lines[:5], ",".join(row), *lines[6:]]) + "\n")
    err = refused(["train", "data=tabular_example", f"data.path={workdir / 'log.csv'}",
                   "task=[click]", *TINY, "hydra.run.dir=run"], capsys)  # fmt: skip
    assert "numeric column 'price' holds 1 values that are not numbers, e.g. 'cheap'" in err


def test_exploding_losses_stop_the_run_as_diverged(workdir: Path, capsys) -> None:
    err = refused(["train", *TINY, "optim.lr=1e6", "hydra.run.dir=run"], capsys)
    assert "first losses" in err and "Lower optim.lr" in err
    assert json.loads((workdir / "run" / "summary.json").read_text())["status"] == "diverged"


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_a_constant_label_gives_undefined_metrics_that_are_explained(workdir: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    click = lines[0].split(",").index("click")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[click] = "0"  # nobody ever clicks: AUC has nothing to measure
    text = "\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n"
    (workdir / "log.csv").write_text(text)
    proc = cli("train", "data=tabular_example", f"data.path={workdir / 'log.csv'}",
               "task=[click]", *TINY, "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    assert "-: undefined on that split" in proc.stdout and "test/click/auc" in proc.stdout
    assert "metrics are undefined on that split" in proc.stdout + proc.stderr  # the log
    assert json.loads((workdir / "run" / "summary.json").read_text())["test/click/auc"] is None


def test_a_multirun_refused_at_its_first_job_leaves_nothing(workdir: Path, capsys) -> None:
    err = refused(["train", "-m", *TINY, "optim.lr=-1,-2"], capsys)
    assert "optim.lr=-1 is out of range" in err
    assert list(workdir.iterdir()) == []  # no outputs/multiruns/<date>/<time>/multirun.yaml


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: tabular\npath: [unclosed\n", "people.yaml, line 3 is not valid YAML"),
        ("- name\n- tabular\n", "people.yaml holds a list, not a mapping of settings"),
    ],
)
def test_a_user_config_file_hydra_cannot_read_is_named(
    content: str, expected: str, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    (workdir / "conf" / "data").mkdir(parents=True)
    (workdir / "conf" / "data" / "people.yaml").write_text(content)
    err = refused(["train", "--config-dir=conf", "data=people", "hydra.run.dir=run"], capsys)
    assert expected in err and "Traceback" not in err, err
    assert not (workdir / "run").exists()


def test_an_empty_census_file_is_named(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    (workdir / "census.gz").write_bytes(b"")
    err = refused(["train", *TINY, "data.path=census.gz", "hydra.run.dir=run"], capsys)
    assert "data file census.gz has no rows" in err, err  # not "the train split is empty"


def damage_checkpoint(run: Path) -> None:
    (run / "checkpoint.pt").write_bytes(bytes(range(256)) * 4)


def damage_best(run: Path) -> None:
    (run / "best.pt").write_bytes((run / "best.pt").read_bytes()[:100])


def damage_metrics(run: Path) -> None:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join([lines[0][:10], *lines[1:]]) + "\n")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (damage_checkpoint, "cannot read checkpoint"),
        (damage_best, "best.pt is not a readable mtfw checkpoint"),
        (damage_metrics, "metrics.jsonl, line 1, is not a JSON row"),
    ],
)
def test_resume_refuses_damage_before_writing_anything(
    damage, expected: str, tiny_run: Path, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    """The run directory is as it was: no summary.json saying "failed", no log lines, no
    preprocess.json rewritten (the battery found all three)."""
    run = workdir / "run"
    shutil.copytree(tiny_run, run)
    (run / "summary.json").unlink()  # interrupted
    damage(run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    err = refused(["train", f"resume={run}"], capsys)
    assert expected in err, err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("name", "content"), [("summary.json", "{not json"), (".hydra/config.yaml", "a: [b\n")]
)
def test_report_names_the_unreadable_file(
    name: str, content: str, tiny_run: Path, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    run = workdir / "run"
    shutil.copytree(tiny_run, run)
    (run / name).write_text(content)
    err = refused(["report", str(workdir)], capsys)
    assert f"{Path(name).name} is unreadable" in err and "did not complete" not in err, err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["out=out"], "out=out already exists and is not an empty folder"),
        (["trainer.num_threads=many"], "trainer.num_threads='many': expected"),
    ],
)
def test_reproduce_refuses_before_making_its_folder(
    args: list[str], expected: str, tiny_run: Path, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    (workdir / "out").write_text("a file, not a folder")
    err = refused(["reproduce", str(tiny_run), *args], capsys)
    assert expected in err, err
    assert sorted(p.name for p in workdir.iterdir()) == ["out"]  # no outputs/reproductions/


def test_a_task_with_no_labelled_sample_in_a_split_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    """Every row lacks the masked label: nothing to train or measure, said before training
    (it used to train, print a table of nulls and say "completed")."""
    rows = [f"{'xyz'[i % 3]},{i / 400:.4f},{i % 2}," for i in range(400)]
    (workdir / "t.csv").write_text("a,b,y,z\n" + "\n".join(rows) + "\n")
    (workdir / "conf" / "data").mkdir(parents=True)
    (workdir / "conf" / "task").mkdir()
    (workdir / "conf" / "data" / "t.yaml").write_text(
        f"name: tabular\npath: {workdir / 't.csv'}\ncategorical: [a]\nnumeric: [b]\n"
        "labels: {y: y, z: z}\n"
    )
    (workdir / "conf" / "task" / "zt.yaml").write_text(
        "zt: {name: binary, label: z, mask_missing: true}\n"
    )
    err = refused(["train", "--config-dir=conf", "data=t", "task=[zt]", "hydra.run.dir=run"],
                  capsys)  # fmt: skip
    assert "task 'zt' has no labelled sample in the train split" in err, err
    assert not (workdir / "run").exists()


def test_a_run_whose_every_metric_is_undefined_does_not_complete() -> None:
    from mtfw.errors import NothingMeasured
    from mtfw.trainer.table import check_measured

    check_measured({"val/a/auc": float("nan"), "test/a/auc": 0.7})  # one measured: fine
    with pytest.raises(NothingMeasured, match="every val/test metric of the run is undefined"):
        check_measured({"val/a/auc": float("nan"), "test/a/auc": None, "best_epoch": 1})


@pytest.mark.parametrize("name", ["mean", "weighted"])
def test_a_task_named_like_an_aggregate_is_refused(name: str, workdir: Path, capsys) -> None:
    err = refused(["train", f"+task.{name}={{name: binary, label: income}}", "hydra.run.dir=run"],
                  capsys)  # fmt: skip
    assert f"a task may not be named '{name}'" in err, err
    assert not (workdir / "run").exists()
