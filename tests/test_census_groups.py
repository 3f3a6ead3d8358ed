"""Census groups of the MMoE paper: the inputs are every column but the *selected* tasks' label
sources (group 1 keeps ``education``, group 2 keeps ``income_50k``); the guard still refuses a
selected task's source as an input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TINY, cli, composed
from omegaconf import OmegaConf

from mtfw.data.census import Census
from mtfw.data.needs import DataNeeds

GROUP_TASKS = {"census_group1": ["income", "marital"], "census_group2": ["education", "marital"]}


def inputs_of(data: Census, labels: list[str]) -> list[str]:
    pre = data.prepare(DataNeeds(labels=dict.fromkeys(labels, False))).preprocessor
    return [*pre.categorical, *pre.numeric]


def census_of(experiment: str) -> Census:
    node = OmegaConf.to_container(composed(f"experiment={experiment}").data, resolve=True)
    node.pop("name")
    return Census(**node)


@pytest.mark.parametrize(
    ("experiment", "labels", "kept", "dropped"),
    [
        ("census_group1", ["income", "marital"], "education", {"income_50k", "marital_stat"}),
        ("census_group2", ["college", "marital"], "income_50k", {"education", "marital_stat"}),
    ],
)
def test_a_group_file_lists_every_column_but_its_own_label_sources(
    experiment: str, labels: list[str], kept: str, dropped: set[str]
) -> None:
    listed = census_of(experiment).features
    assert kept in listed and not dropped & set(listed) and "instance_weight" not in listed
    # data=census without a feature list gives the same inputs for the same tasks
    assert inputs_of(census_of(experiment), labels) == inputs_of(Census(), labels)


@pytest.mark.slow  # trains two tiny census runs through the CLI (several seconds each)
@pytest.mark.parametrize(
    ("experiment", "kept", "dropped"),
    [
        ("census_group1", "education", {"income_50k", "marital_stat", "college", "income"}),
        ("census_group2", "income_50k", {"education", "marital_stat", "college", "income"}),
    ],
)
def test_a_group_run_trains_on_its_inputs(
    experiment: str, kept: str, dropped: set[str], workdir: Path
) -> None:
    cli("train", f"experiment={experiment}", *TINY, "hydra.run.dir=run", cwd=workdir)
    pre = json.loads((workdir / "run" / "preprocess.json").read_text())
    fields = set(pre["categorical"]) | set(pre["numeric"])
    assert kept in fields and not fields & dropped
    assert len(fields) == 42 - 3  # less two label sources and the sampling weight


@pytest.mark.parametrize(
    ("override", "column"),
    [
        ("task=[income,marital,education]", "education"),  # group 1's list, education selected
        ("data.features=[age,sex,income_50k]", "income_50k"),
    ],
)
def test_the_guard_refuses_a_selected_tasks_source(
    override: str, column: str, workdir: Path
) -> None:
    proc = cli("train", "experiment=census_group1", override, *TINY, "hydra.run.dir=run",
               cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "leakage" in proc.stderr and f"'{column}'" in proc.stderr
    assert "Traceback" not in proc.stderr and not (workdir / "run").exists()
