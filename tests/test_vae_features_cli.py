"""``features=vae`` and ``data.split.by=cold_start_items`` through the CLI: bad input refused
before data loads, and a MovieLens-100K run that trains, saves and recommends with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import cli, summary
from recsys_support import ml100k

QUICK = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=5", "trainer.num_threads=1"]
FAST_VAE = ["features=vae", "features.vae.epochs=2", "features.vae.hidden=[16]"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["features=vae"], "data=census is a flat table: VAE latent features"),
        (["experiment=ml100k_mult_vae", "features=vae"], "with baseline=mult_vae"),
        (["experiment=ml100k_mtl", "features=vae", "features.vae.side=users"], "choose user"),
        (["experiment=ml100k_mtl", "features=vae", "features.vae.mask=0"], "allowed (0, 1]"),
        (["experiment=ml100k_mtl", "features=vae", "features.vae.beta=2"], "beta=2"),
        (["experiment=ml100k_mtl", "features=vae", "features.vae.hidden=[0]"], "hidden=[0]"),
        (["experiment=ml100k_mtl", "features=vea"], "Did you mean 'vae'?"),
        (["+data.split.by=cold_start_items"], "must be random or time for this dataset"),
    ],
)
def test_bad_vae_and_cold_item_settings_are_refused_before_data_loads(
    workdir: Path, args: list[str], message: str
) -> None:
    proc = cli("train", *args, *QUICK, "data.root=/nonexistent", cwd=workdir, check=False)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-800:]
    assert "Traceback" not in proc.stderr and not (workdir / "outputs").exists()


@pytest.mark.slow  # loads MovieLens-100K (a few seconds)
def test_a_cold_start_items_split_without_held_out_items_is_refused(workdir: Path) -> None:
    proc = cli("train", "experiment=ml100k_mtl", "data.split.by=cold_start_items",
               "data.split.test=0.0001", *ml100k(), *QUICK, cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-800:]
    assert "leaves the test split without items" in proc.stderr


@pytest.mark.slow  # trains two VAEs and the MTL model on MovieLens-100K, then recommends
def test_vae_features_on_cold_start_items_train_save_and_recommend(workdir: Path) -> None:
    cli("train", "experiment=ml100k_mtl", "data.split.by=cold_start_items", *FAST_VAE,
        *ml100k(), *QUICK, "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["data/split"] == "cold_start_items"
    assert s["data/n_trained_items"] < 1682 and s["test/ranking/ndcg@10"] > 0
    assert {"features/vae_user_loss", "features/vae_item_loss"} <= set(s)
    state = torch.load(workdir / "run" / "best.pt", weights_only=False)["model"]
    assert "inputs.latent.weight0" in state and "items.latent.weight0" in state
    new = workdir / "new.csv"
    new.write_text("id,age,gender,occupation,zip_prefix\nn1,25,F,student,94\nn2,60,M,retired,10\n")
    proc = cli("recommend", "run", f"users_file={new}", "k=3", cwd=workdir)
    lines = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert [line[0] for line in lines] == ["n1"] * 3 + ["n2"] * 3
    assert cli("recommend", "run", "users=1,2", "k=2", cwd=workdir).returncode == 0
    from mtfw.recommend_users import load_run
    from mtfw.run_files import read_config

    exp, _ = load_run(read_config(workdir / "run"), workdir / "run")  # not refitted: best.pt's
    assert torch.equal(exp.model.items.latent.weight0.cpu(), state["items.latent.weight0"])
