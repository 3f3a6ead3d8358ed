"""`mtfw train` end to end through the real CLI: outputs, overrides, multirun, determinism."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import MTFW, TINY, cli, metric_values, summary

SUMMARY_KEYS = {
    "best_epoch", "train_seconds", "samples_per_second", "seed", "git_sha", "version/torch",
    "version/python", "data/checksum", "data/split_seed", "status", "n_parameters", "command",
    "peak_rss_bytes",
}  # fmt: skip
CENSUS_SHA = "5ac4cacd3ca9f1ecb10de1a0a41e4ac68fdc419e3fec190f5c0c6cc03b2ea659"


def test_train_writes_the_run_record(workdir: Path) -> None:
    proc = cli("train", *TINY, "hydra.run.dir=run", cwd=workdir)
    run = workdir / "run"
    for name in ("metrics.jsonl", "summary.json", "preprocess.json", "checkpoint.pt", "best.pt"):
        assert (run / name).is_file(), name
    for name in ("config.yaml", "overrides.yaml", "hydra.yaml"):
        assert (run / ".hydra" / name).is_file(), name
    s = summary(run)
    assert set(s) >= SUMMARY_KEYS
    # the command re-runs the run: the subcommand included, shell-quoted; no config folder
    assert shlex.split(s["command"]) == ["mtfw", "train", *TINY, "hydra.run.dir=run"]
    assert s["config_dirs"] == [] and json.loads((run / ".mtfw" / "run.json").read_text())
    assert s["status"] == "completed" and s["data/checksum"] == CENSUS_SHA
    for split in ("val", "test"):
        for task in ("income", "marital"):
            for metric in ("auc", "logloss", "accuracy"):
                assert 0 <= s[f"{split}/{task}/{metric}"] <= 1 + 9 * (metric == "logloss")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "kind" not in r]  # evaluation rows (step rows have kind: step)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert not any(k.startswith("test/") for r in rows for k in r)  # test is never looked at
    assert "test/income/auc" not in rows[-1]
    # the final table names each task and split, and where the run went
    assert "income" in proc.stdout and "marital" in proc.stdout and "test" in proc.stdout
    assert str(run.resolve()) in proc.stdout or "run" in proc.stdout.splitlines()[-1]


def test_overrides_change_exactly_what_they_say(workdir: Path) -> None:
    args = [
        "encoder=shared_bottom",
        "weighting=uncertainty",
        "seed=3",
        "trainer.max_epochs=2",
        "task=[income,marital]",
        "trainer.max_steps_per_epoch=3",
        "hydra.run.dir=run",
    ]
    cli("train", *args, cwd=workdir)
    cfg = yaml.safe_load((workdir / "run/.hydra/config.yaml").read_text())
    default = yaml.safe_load(cli("train", "--cfg", "job", cwd=workdir).stdout)
    assert cfg["encoder"]["name"] == "shared_bottom" and cfg["weighting"]["name"] == "uncertainty"
    assert cfg["seed"] == 3 and cfg["trainer"]["max_epochs"] == 2
    assert sorted(cfg["task"]) == ["income", "marital"]
    # everything not overridden is the default
    for key in ("data", "optim", "embedding", "task"):
        assert cfg[key] == default[key], key
    changed = {k for k in default["trainer"] if default["trainer"][k] != cfg["trainer"][k]}
    assert changed == {"max_epochs", "max_steps_per_epoch"}
    assert summary(workdir / "run")["seed"] == 3


def test_cfg_job_prints_the_composed_config(workdir: Path) -> None:
    out = cli("train", "--cfg", "job", "encoder=shared_bottom", cwd=workdir).stdout
    cfg = yaml.safe_load(out)
    assert cfg["encoder"]["name"] == "shared_bottom"
    assert set(cfg["task"]) == {"income", "marital"}
    assert cfg["data"]["name"] == "census" and cfg["weighting"]["name"] == "static"
    assert not list(workdir.glob("outputs/**/summary.json"))  # printing trains nothing


@pytest.mark.slow
def test_multirun_makes_one_directory_per_seed(workdir: Path) -> None:
    cli("train", "-m", "seed=0,1,2", *TINY, "hydra.sweep.dir=multi", cwd=workdir)
    seeds = sorted(summary(d)["seed"] for d in (workdir / "multi").iterdir() if d.is_dir())
    assert seeds == [0, 1, 2]


@pytest.mark.slow  # end to end, tens of seconds: CI runs it
def test_same_config_gives_identical_metrics_and_python_m_mtfw_train_works(workdir: Path) -> None:
    cli("train", *TINY, "hydra.run.dir=a", cwd=workdir, fresh_process=True)  # two processes
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "mtfw.train", *TINY, "hydra.run.dir=b"],
        cwd=workdir, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    a, b = metric_values(summary(workdir / "a")), metric_values(summary(workdir / "b"))
    assert a == b and len(a) >= 16
    cli("train", *TINY, "seed=1", "hydra.run.dir=c", cwd=workdir)
    assert metric_values(summary(workdir / "c")) != a  # the seed matters


def test_synthetic_experiment_records_label_correlation(workdir: Path) -> None:
    args = [
        "experiment=synthetic",
        "data.n_samples=3000",
        "data.correlation=0.9",
        "trainer.max_epochs=2",
        "hydra.run.dir=run",
    ]
    cli("train", *args, cwd=workdir)
    s = summary(workdir / "run")
    assert 0.8 < s["data/label_pearson"] < 1.0
    assert s["test/y1/mse"] > 0 and "test/y2/rmse" in s


def test_list_prints_components_with_parameters(workdir: Path) -> None:
    out = cli("list", cwd=workdir).stdout
    for name in ("census", "synthetic", "shared_bottom", "mmoe", "static", "uncertainty", "adam",
                 "adamw", "sgd", "binary", "auc"):  # fmt: skip
        assert name in out, name
    enc = cli("list", "encoder", cwd=workdir).stdout
    assert "mmoe" in enc and "n_experts=8" in enc and "census" not in enc
    bad = cli("list", "encodr", cwd=workdir, check=False)
    assert bad.returncode == 2 and "Did you mean 'encoder'" in bad.stderr


def test_output_piped_into_a_reader_that_stops_is_no_error(workdir: Path) -> None:
    """`mtfw list | head -1`: the pipe closes early; no traceback, exit status 0."""
    shell = f"{' '.join(MTFW)} list | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", shell], cwd=workdir,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.stdout.strip() == "data:" and "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
