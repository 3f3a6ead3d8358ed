"""logger=wandb: offline runs write their files beside the record, disabled writes none; the mode
rules; the dirty-tree warning at train start."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY, cli, summary
from hydra import compose, initialize_config_dir

from mtfw import record
from mtfw.errors import ConfigError
from mtfw.preflight import CONF_DIR
from mtfw.tracking import logger_settings, resolve_mode
from mtfw.tracking.wandb_logger import as_wandb_row, shared_group


def wandb_files(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))


@pytest.mark.slow
def test_offline_multirun_writes_wandb_files_with_one_group(workdir: Path) -> None:
    cli("train", "-m", "logger=wandb", "seed=0,1", *TINY, "hydra.sweep.dir=multi", cwd=workdir)
    for job in ("0", "1"):
        run_dir = workdir / "multi" / job
        assert summary(run_dir)["status"] == "completed"  # the local record is unaffected
        (log_file,) = wandb_files(run_dir)
        data = log_file.read_bytes()
        assert len(data) > 1000
        for key in ("val/income/auc", "step/train/income/loss", "step/weight/marital",
                    "grad_cos/", "test/income/auc", "gate/income/0", "mmoe"):  # fmt: skip
            assert key.encode() in data, key  # config, steps, epochs, summary
        assert f"{workdir.name}/multi".encode() in data  # the multirun's group


@pytest.mark.slow
def test_disabled_wins_over_wandb_mode_and_writes_nothing(workdir: Path) -> None:
    # cli() sets WANDB_MODE=offline; an explicit logger.mode=disabled still wins
    cli("train", "logger=[wandb]", "logger.mode=disabled", *TINY, "hydra.run.dir=run", cwd=workdir)
    assert summary(workdir / "run")["status"] == "completed"
    assert not (workdir / "run" / "wandb").exists() and not (workdir / "wandb").exists()


def test_a_bad_logger_setting_is_refused_before_training(workdir: Path) -> None:
    proc = cli("train", "logger=wandb", "logger.mode=sometimes", *TINY, cwd=workdir, check=False)
    assert proc.returncode == 2 and "logger.mode='sometimes'" in proc.stderr
    assert "online, offline or disabled" in proc.stderr


def test_logger_config_composes_in_both_forms() -> None:
    for override in ("logger=wandb", "logger=[wandb]"):
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=[override, "logger.project=p"])
        settings = logger_settings(cfg.logger)
        assert settings is not None and settings.project == "p" and settings.mode is None
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        assert logger_settings(compose("train").logger) is None  # default: logger=none


@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        ("disabled", {"WANDB_MODE": "offline"}, "disabled"),  # the config wins
        (None, {"WANDB_MODE": "disabled"}, "disabled"),  # then the environment
        (None, {"WANDB_MODE": "dryrun"}, "offline"),  # wandb's older spelling
        (None, {}, "offline"),  # no key: offline
        (None, {"WANDB_API_KEY": "x" * 40}, "online"),  # a key: online
        ("online", {}, "offline"),  # online without a key never waits for a login
        ("offline", {"WANDB_API_KEY": "x" * 40}, "offline"),
    ],
)
def test_mode_rules(configured, env, expected, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    env = {"NETRC": str(tmp_path / "no-netrc"), **env}
    mode, note = resolve_mode(configured, env)
    assert mode == expected
    assert (note is not None) == (configured == "online" and expected == "offline")


def test_bad_logger_nodes_say_what_is_allowed() -> None:
    with pytest.raises(ConfigError, match="logger=none or logger=wandb"):
        logger_settings({"name": "tensorboard"})
    with pytest.raises(ConfigError, match=r"no setting 'projct'.*Did you mean 'project'"):
        logger_settings({"name": "wandb", "projct": "x"})
    with pytest.raises(ConfigError, match="WANDB_MODE=maybe"):
        resolve_mode(None, {"WANDB_MODE": "maybe"})


def test_step_rows_do_not_collide_with_epoch_means() -> None:
    step = {"kind": "step", "epoch": 1, "step": 3, "train/a/loss": 0.5, "weight/a": 1.0}
    assert as_wandb_row(step) == {"epoch": 1, "step/train/a/loss": 0.5, "step/weight/a": 1.0}
    epoch = {"epoch": 1, "step": 3, "train/a/loss": 0.4, "val/a/auc": 0.7}
    assert as_wandb_row(epoch) == {"epoch": 1, "train/a/loss": 0.4, "val/a/auc": 0.7}


def test_sweep_trials_share_the_sweep_as_group(tmp_path: Path) -> None:
    sweep = tmp_path / "sweeps" / "tw"
    (sweep / "trials" / "0003").mkdir(parents=True)
    assert shared_group(sweep / "trials" / "0003") is None  # not a sweep without sweep.yaml
    (sweep / "sweep.yaml").write_text("name: task_weights\n")
    assert shared_group(sweep / "trials" / "0003") == "sweeps/tw"
    assert shared_group(tmp_path / "run") is None  # a single run has no group


def test_training_from_a_dirty_tree_warns(tmp_path: Path, monkeypatch, capsys, caplog) -> None:
    from mtfw.train import run

    def fake_git(*args: str) -> str:
        return " M mtfw/train.py" if args[0] == "status" else "0" * 40

    monkeypatch.setattr(record, "_git", fake_git)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        overrides = ["experiment=synthetic", "data.n_samples=1000", "trainer.max_epochs=1"]
        cfg = compose("train", overrides=overrides)
    result = run(cfg, tmp_path / "run")
    assert result["status"] == "completed" and result["git_dirty"] is True  # a warning only
    assert "uncommitted changes" in capsys.readouterr().err
    assert "uncommitted changes" in caplog.text
