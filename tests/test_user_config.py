"""The rules of the user's config folders, in-process: where they come from and in what order,
a user file with a shipped name wins and is named once, the pre-flight checks search them, and
code under ``hydra`` from a user file is refused unless the user opts in."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from user_config_support import BUDGET, SHADOW_WEIGHT, hydra_callback, user_folder, write_yaml

from mtfw.cli import main as cli_main
from mtfw.errors import ConfigError
from mtfw.user_config.check import override_sets
from mtfw.user_config.folders import CONF_DIR, ENV, resolve, searching, split_flags
from mtfw.user_config.hydra_code import ALLOW, code_entries
from mtfw.user_config.sources import announce, files_read, shadow_line


def exits_2(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_flags_in_every_spelling(tmp_path: Path) -> None:
    argv = ["--config-dir", "a", "seed=1", "--config-dir=b", "-cd", "c", "-m"]
    assert split_flags(argv) == (["a", "b", "c"], ["seed=1", "-m"])
    with pytest.raises(ConfigError, match="--config-dir needs a folder"):
        split_flags(["--config-dir"])


def test_search_order_is_command_line_then_environment_then_shipped(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in "abc")
    for folder in (a, b, c):
        folder.mkdir()
    folders = resolve([str(a)], {ENV: f"{b}:{c}::{a}"})  # a named twice is searched once
    assert folders.paths == (a, b, c) and folders.search_order == [a, b, c, CONF_DIR]
    assert folders.origins == ("--config-dir", ENV, ENV)
    with searching(folders), initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        sources = GlobalHydra.instance().config_loader().get_sources()
        assert [s.path for s in sources][1:5] == [str(a), str(b), str(c), str(CONF_DIR)]
    assert not GlobalHydra.instance().is_initialized()


def test_a_missing_folder_is_named_with_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=rf"{ENV} {tmp_path}/gone: .* does not exist"):
        resolve([], {ENV: f"{tmp_path}/gone"})


def test_a_user_file_with_a_shipped_name_wins_and_is_named_once(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    conf = user_folder(tmp_path)
    with (
        searching(resolve([str(conf)], {})),
        initialize_config_dir(str(CONF_DIR), version_base="1.3"),
    ):
        cfg = compose("train", overrides=["data=people"])
        files = files_read(["data=people"])
        announce(files)
        announce(files_read(["experiment=people_mmoe"]))  # the same file again: said once
    assert cfg.task.income.weight == SHADOW_WEIGHT and cfg.task.income.metrics == ["auc", "logloss"]
    assert [(f.name, f.shadows) for f in files] == [
        ("data/people.yaml", False), ("task/income.yaml", True)]  # fmt: skip
    line = f"task/income.yaml: using {conf}/task/income.yaml (shadows the shipped one)"
    assert shadow_line(files[1]) == line
    assert capsys.readouterr().err.splitlines() == [line]


def test_without_user_folders_nothing_changes() -> None:
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        assert compose("train").task.income.weight == 1.0 and files_read([]) == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["data=peple"],
            [
                "unknown data 'peple'",
                "/proj/data/ and conf/data/",
                "people, synthetic",
                "Did you mean 'people'",
            ],
        ),
        (["experiment=people_mme"], ["people_mmoe", "census_group1", "Did you mean 'people_mmoe'"]),
        (["data=people", "trainer.max_epoch=2"], ["Did you mean 'max_epochs'"]),
        (["data=people", "+foo=1"], ["unknown top-level key 'foo'"]),
        (["data=people", "optim.lr=-1"], ["optim.lr"]),
        (["hydra.searchpath=[file:///x]"], ["--config-dir DIR or MTFW_CONFIG_PATH"]),
    ],
)
def test_preflight_checks_search_the_user_folders(
    argv: list[str], expected: list[str], workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    conf = user_folder(workdir)
    err = exits_2(["train", f"--config-dir={conf}", *argv, *BUDGET, "hydra.run.dir=run"], capsys)
    for text in expected:
        assert text in err, (text, err)
    assert not (workdir / "run").exists()


def test_the_environment_variable_names_folders_too(
    workdir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(user_folder(workdir)))
    assert "Did you mean 'people'" in exits_2(["train", "data=peple"], capsys)
    assert "Did you mean 'people'" in exits_2(["sweep", "sweep=people", "data=peple"], capsys)


def test_sweep_overrides_make_one_composition_per_group_choice() -> None:
    parsed = OverridesParser.create().parse_overrides(["encoder=mmoe,mine", "seed=0,1", "data=x"])
    assert override_sets(parsed, {"encoder", "data"}) == [
        ["data=x"], ["data=x", "encoder=mmoe"], ["data=x", "encoder=mine"]]  # fmt: skip


def test_code_entries_of_the_shipped_configs_are_hydra_own() -> None:
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        node = compose("train", return_hydra_config=True).hydra
    entries = code_entries(node)
    assert {k for k in entries if "_logging." not in k} == {
        "hydra.launcher._target_", "hydra.sweeper._target_"}  # fmt: skip
    assert entries["hydra.job_logging.handlers.file.class"] == "logging.FileHandler"
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        overrides = ["+hydra.callbacks.x._target_=builtins.open", "+hydra.callbacks.x.file=m"]
        node = compose("train", overrides, return_hydra_config=True).hydra
    assert code_entries(node)["hydra.callbacks.x"] == "builtins.open"


def experiment_with_callback(conf: Path, marker: Path) -> None:
    write_yaml(conf / "experiment" / "sneaky.yaml", {
        "defaults": [{"override /data": "people"}],
        "hydra": {"callbacks": {"x": {"_target_": "builtins.open", "file": str(marker),
                                      "mode": "w"}}},
    }, "# @package _global_\n")  # fmt: skip


def test_a_logging_factory_from_a_user_file_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    conf = user_folder(workdir)
    write_yaml(conf / "experiment" / "logs.yaml", {"hydra": {"job_logging": {"formatters": {
        "x": {"()": "os.getcwd"}}}}}, "# @package _global_\n")  # fmt: skip
    err = exits_2(["train", "--config-dir", str(conf), "data=people", "experiment=logs"], capsys)
    assert "hydra.job_logging.formatters.x.() calls os.getcwd" in err


@pytest.mark.parametrize("route", ["train.yaml", "experiment"])
def test_a_user_file_that_would_call_code_is_refused(
    route: str, workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    conf, marker = user_folder(workdir), workdir / "marker"
    if route == "train.yaml":
        hydra_callback(conf, marker)
        argv, holder = ["data=people"], conf / "train.yaml"
    else:
        experiment_with_callback(conf, marker)
        argv, holder = ["-m", "experiment=people_mmoe,sneaky"], conf / "experiment" / "sneaky.yaml"
    err = exits_2(["train", "--config-dir", str(conf), *argv, *BUDGET, "hydra.run.dir=run"], capsys)
    assert f"{holder}: hydra.callbacks.x calls builtins.open" in err
    assert f"set {ALLOW}=1 to allow it" in err
    assert not marker.exists() and not (workdir / "run").exists()


@pytest.mark.slow  # a real run in a subprocess (Hydra calls callbacks when a run starts): seconds
def test_opted_in_a_user_callback_runs(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf, marker = user_folder(workdir), workdir / "marker"
    hydra_callback(conf, marker)
    monkeypatch.setenv(ALLOW, "1")
    cli("train", f"--config-dir={conf}", "data=people", *BUDGET, "hydra.run.dir=run", cwd=workdir)
    assert marker.exists() and (workdir / "run" / "summary.json").exists()
    monkeypatch.delenv(ALLOW)
    proc = cli("train", f"--config-dir={conf}", "data=people", *BUDGET, "hydra.run.dir=run2",
               cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "hydra.callbacks.x calls builtins.open" in proc.stderr
    assert not (workdir / "run2").exists()
