"""``mtfw init`` on real public tables (AER/DoctorVisits, ISLR/Wage, COUNT/rwm5yr): the files it
writes, what it refuses, and that the experiment it writes trains through the CLI as is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import cli, summary
from omegaconf import OmegaConf
from public_tables_support import public_csv

from mtfw import registry
from mtfw.cli import main as cli_main

COUNT = "count" in registry.names("task")
TABLES = {  # table, --label columns, the experiment's name
    "doctorvisits": ("AER/DoctorVisits", ["visits", "private"]),
    "wage": ("ISLR/Wage", ["health_ins", "health", "wage"]),
    "rwm5yr": ("COUNT/rwm5yr", ["docvis", "outwork"]),
}


def init(folder: Path, name: str, capsys: pytest.CaptureFixture) -> tuple[Path, str]:
    """``mtfw init`` in-process for one of TABLES; returns the folder and what it printed."""
    table, labels = TABLES[name]
    csv = public_csv(table, folder / f"{name}.csv")
    cli_main(["init", str(folder / "proj"), "--csv", str(csv), "--label", *labels])
    return folder / "proj", capsys.readouterr().out


def data_config(proj: Path, name: str) -> dict:
    text = (proj / "data" / f"{name}.yaml").read_text()
    assert text.startswith(f"# mtfw train --config-dir {proj} data={name} 'task=[")
    return OmegaConf.to_container(OmegaConf.create(text))  # as Hydra reads it


def refused(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_doctor_visits_every_column_under_its_kind(tmp_path: Path, capsys) -> None:
    proj, out = init(tmp_path, "doctorvisits", capsys)
    v, p = "visits", "private"  # conf/task/visits.yaml is shipped: the user's file shadows it
    data = data_config(proj, "doctorvisits")
    assert data["categorical"] == ["gender", "freepoor", "freerepat", "nchronic", "lchronic"]
    assert data["numeric"] == ["age", "income", "illness", "reduced", "health"]
    assert data["exclude"] == ["visits", "private"] and data["log1p"] == ["reduced"]
    assert data["labels"] == {v: "visits", p: {"column": "private", "equals": "yes"}}
    text = (proj / "data" / "doctorvisits.yaml").read_text()
    assert "  - gender     # 2 distinct strings in 5,190 rows -> categorical" in text
    visits = yaml.safe_load((proj / "task" / f"{v}.yaml").read_text())[v]
    assert visits["name"] == ("count" if COUNT else "regression") and visits["label"] == v
    private = yaml.safe_load((proj / "task" / f"{p}.yaml").read_text())[p]
    assert private == {"name": "binary", "label": p, "weight": 1.0, "tower": [32],
                       "metrics": ["auc", "logloss", "accuracy"]}  # fmt: skip
    experiment = (proj / "experiment" / "doctorvisits.yaml").read_text()
    assert experiment.startswith(f"# @package _global_\n# mtfw train --config-dir {proj} "
                                 "experiment=doctorvisits\n")  # fmt: skip
    defaults = yaml.safe_load(experiment)["defaults"]
    assert defaults == [{"override /data": "doctorvisits"}, {"override /task": [v, p]}]
    assert f"wrote {proj}/task/{p}.yaml" in out
    assert out.rstrip().endswith(f"mtfw train --config-dir {proj} experiment=doctorvisits")
    assert f"label        {p}: binary, 'yes' is 1" in out


def test_wage_string_labels_and_a_derived_column(tmp_path: Path, capsys) -> None:
    proj, _ = init(tmp_path, "wage", capsys)
    data = data_config(proj, "wage")
    assert data["labels"]["health_ins"] == {"column": "health_ins", "equals": "1. Yes"}
    assert data["labels"]["health"] == {"column": "health", "equals": "1. <=Good"}  # the rarer
    assert data["labels"]["wage"] == "wage"
    assert data["categorical"] == ["maritl", "race", "education", "jobclass"]
    assert data["numeric"] == ["year", "age"]
    assert data["exclude"] == ["region", "health", "health_ins", "logwage", "wage"]
    text = (proj / "data" / "wage.yaml").read_text()
    assert "- logwage     # rank correlation 1.00 with the label 'wage' -> derived" in text
    assert "- region      # one value ('2. Middle Atlantic') in every row -> constant" in text
    wage = yaml.safe_load((proj / "task" / "wage.yaml").read_text())["wage"]
    assert wage["name"] == "regression" and wage["metrics"] == ["mse", "rmse", "mae"]


def test_rwm5yr_a_repeating_person_id_is_excluded(tmp_path: Path, capsys) -> None:
    proj, _ = init(tmp_path, "rwm5yr", capsys)
    data = data_config(proj, "rwm5yr")
    assert data["exclude"] == ["id", "docvis", "outwork"] and data["categorical"] == []
    assert "year" in data["numeric"] and "hospvis" in data["log1p"]
    assert data["labels"] == {"docvis": "docvis", "outwork": "outwork"}
    text = (proj / "data" / "rwm5yr.yaml").read_text()
    assert "- id       # named like an id: 6,127 distinct values, up to 5 rows each" in text


def test_init_never_overwrites(tmp_path: Path, capsys) -> None:
    proj, _ = init(tmp_path, "doctorvisits", capsys)
    before = (proj / "data" / "doctorvisits.yaml").read_text()
    private = proj / "task" / "private.yaml"
    private.unlink()  # one file gone, the others there: still refused
    err = refused(["init", str(proj), "--csv", str(tmp_path / "doctorvisits.csv"), "--label",
                   "visits", "private"], capsys)  # fmt: skip
    assert "mtfw init: error:" in err and "already exist: mtfw init never overwrites" in err
    assert f"{proj}/data/doctorvisits.yaml" in err and "Traceback" not in err
    assert (proj / "data" / "doctorvisits.yaml").read_text() == before
    assert not private.exists()


def test_init_refuses_a_missing_file_and_an_unknown_label(tmp_path: Path, capsys) -> None:
    csv = public_csv("AER/DoctorVisits", tmp_path / "doctorvisits.csv")
    err = refused(["init", str(tmp_path / "p"), "--csv", str(tmp_path / "doctorvisit.csv"),
                   "--label", "visits"], capsys)  # fmt: skip
    assert "no such file. Did you mean 'doctorvisits.csv'?" in err
    err = refused(["init", str(tmp_path / "p"), "--csv", str(csv), "--label", "visit"], capsys)
    assert "--label visit: the file has no column 'visit'. Did you mean 'visits'?" in err
    err = refused(["init", str(tmp_path / "p"), "--csv", str(csv)], capsys)
    assert "the following arguments are required: --label" in err
    assert not (tmp_path / "p").exists()


@pytest.mark.slow  # mtfw init, then one epoch of mtfw train through the CLI: several seconds
@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_written_experiment_trains_as_is(name: str, workdir: Path) -> None:
    table, labels = TABLES[name]
    csv = public_csv(table, workdir / f"{name}.csv")
    out = cli("init", "proj", "--csv", str(csv), "--label", *labels, cwd=workdir).stdout
    assert f"mtfw train --config-dir proj experiment={name}" in out
    cli("train", "--config-dir", "proj", f"experiment={name}", "trainer.max_epochs=1",
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["epochs_trained"] == 1
    for label in labels:
        assert any(k.startswith(f"test/{label}/") for k in s), label


def messy_shop(folder: Path, n: int = 600) -> Path:
    """A shop log with an order id, date-time strings, '?' among prices, missing quantities, free
    text notes, a yes/no label and a 0/1 label some rows lack."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "day": pd.date_range("2023-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
        "price": [f"{x:.2f}" if i % 25 else "?" for i, x in enumerate(rng.uniform(1, 50, n))],
        "qty": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.integers(1, 5, n)),
        "city": rng.choice(["a", "b", "c"], n),
        "note": [" ".join(rng.choice(["good", "late", "box", "fast"], 8)) for _ in range(n)],
        "bought": rng.choice(["yes", "no"], n),
        "returned": np.where(rng.uniform(size=n) < 0.05, np.nan, rng.integers(0, 2, n)),
    })  # fmt: skip
    frame.to_csv(folder / "shop.csv", index=False)
    return folder / "shop.csv"


@pytest.mark.slow  # mtfw init, then one epoch of mtfw train through the CLI: several seconds
def test_a_messy_file_trains_with_coerce_indicators_and_a_date_timestamp(workdir: Path) -> None:
    cli("init", "proj", "--csv", str(messy_shop(workdir)), "--label", "bought", "returned",
        cwd=workdir)  # fmt: skip
    data = OmegaConf.to_container(OmegaConf.load(workdir / "proj" / "data" / "shop.yaml"))
    assert data["coerce"] == ["price"] and data["missing_indicator"] is True
    assert data["timestamp"] == "day" and data["exclude"][:2] == ["order_id", "note"]
    task = OmegaConf.load(workdir / "proj" / "task" / "returned.yaml")
    assert task.returned.mask_missing is True
    proc = cli("train", "--config-dir", "proj", "experiment=shop", "trainer.max_epochs=1",
               "data.split.by=time", "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    assert "numeric column 'price': 24 of 600 values are not numbers" in proc.stdout + proc.stderr
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["data/coerced/price"] == 24
    assert s["data/missing_indicators"] == ["price_missing", "qty_missing"]
