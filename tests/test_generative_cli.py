"""Mult-VAE and CFGAN through the command line: refused bad input (exit 2, no traceback, before
data loads), and on MovieLens-100K with small sizes and few epochs: the same keys as the other
baselines, a diverged run keeps its last good state, a resumed run equals the whole one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import cli, composed, summary
from recsys_support import interrupted_after_first_epoch, ml100k

from mtfw.baselines import mult_vae
from mtfw.errors import TrainingDiverged

# Small networks and few epochs: what is tested is the contract, not the accuracy.
VAE = ["experiment=ml100k_mult_vae", "baseline.hidden=[32]", "baseline.latent=8",
       "baseline.epochs=3", "baseline.batch_size=200", "trainer.num_threads=1"]  # fmt: skip
GAN = ["experiment=ml100k_cfgan", "baseline.g_hidden=[32]", "baseline.d_hidden=[16]",
       "baseline.epochs=2", "baseline.eval_every=1", "baseline.g_steps=1", "baseline.d_steps=1",
       "baseline.g_batch_size=256", "baseline.d_batch_size=256",
       "trainer.num_threads=1"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["baseline=mult_vae"], "baseline=mult_vae needs interaction data"),
        (["baseline=cfgan", "task=[ranking]"], "baseline=cfgan needs interaction data"),
        (["experiment=ml100k_mult_vae", "baseline.beta_max=2"], "beta_max=2 is out of range"),
        (["experiment=ml100k_cfgan", "baseline.zr_ratio=1.5"], "zr_ratio=1.5 is out of range"),
        (["experiment=ml100k_cfgan", "baseline.pm_ratio=-0.1"], "pm_ratio=-0.1 is out of range"),
        (["experiment=ml100k_cfgan", "baseline.d_steps=0"], "d_steps=0 is out of range"),
        (["experiment=ml100k_mult_vae", "baseline.variant=vea"], "one of 'vae', 'dae'"),
    ],
)
def test_bad_generative_settings_are_refused_before_data_loads(workdir, args, message) -> None:
    proc = cli("train", *args, cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-600:]
    assert message in proc.stderr and not any(workdir.iterdir())


@pytest.mark.slow  # MovieLens-100K, a few epochs of each, evaluated on the whole catalogue
def test_generative_baselines_report_the_keys_of_the_other_baselines(workdir: Path) -> None:
    cli("train", "experiment=ml100k_popularity", *ml100k(), "hydra.run.dir=pop", cwd=workdir)
    cli("train", *VAE, *ml100k(), "hydra.run.dir=vae", cwd=workdir)
    every_other = [a for a in GAN if not a.startswith(("baseline.epochs", "baseline.eval_every"))]
    cli("train", *every_other, "baseline.epochs=3", "baseline.eval_every=2", *ml100k(),
        "hydra.run.dir=gan", cwd=workdir)  # fmt: skip
    pop, vae, gan = (summary(workdir / d) for d in ("pop", "vae", "gan"))
    # Validated after epochs 2 and 3: three epochs trained, each over every training row.
    assert gan["epochs_trained"] == 3 and gan["best_epoch"] in (2, 3)
    rows_per_epoch = pop["samples_per_second"] * pop["train_seconds"]  # popularity: one "epoch"
    trained = gan["samples_per_second"] * gan["train_seconds"]
    assert trained == pytest.approx(3 * rows_per_epoch)
    keys = {k for k in pop if k.startswith(("val/ranking/", "test/ranking/"))}
    for s, name in ((vae, "mult_vae"), (gan, "cfgan")):
        assert s["status"] == "completed" and s["baseline"] == name
        assert keys == {k for k in s if k.startswith(("val/ranking/", "test/ranking/"))}
        assert s["test/ranking/ndcg@10"] > 0 and s["data/split_hash_test"] == pop[
            "data/split_hash_test"]  # fmt: skip
        # its networks are built in fit: the summary counts them, every weight baseline.pt holds
        state = torch.load(workdir / ("vae" if name == "mult_vae" else "gan") / "baseline.pt")
        assert s["n_parameters"] == sum(v.numel() for k, v in state.items() if k != "matrix") > 0
    assert pop["n_parameters"] == 0  # counts, no learned weights
    rows = [line for line in (workdir / "gan" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and '"train/generator/loss"' in rows[0]
    for run_dir in ("vae", "gan"):  # the fitted model reloads and ranks the unseen items
        lines = cli("recommend", run_dir, "users=1", "k=3", cwd=workdir).stdout.splitlines()
        assert [line.split()[:2] for line in lines[1:]] == [["1", "1"], ["1", "2"], ["1", "3"]]


@pytest.mark.slow  # MovieLens-100K: an epoch trained, then the loss is made NaN
def test_a_diverged_run_keeps_its_last_good_state(tmp_path: Path, monkeypatch) -> None:
    from mtfw.train import run

    calls, real = {"n": 0}, mult_vae.multinomial_nll

    def nan_after_epoch_one(logits, x):  # 943 users, 200 a batch: 5 updates an epoch
        calls["n"] += 1
        return real(logits, x) * (float("nan") if calls["n"] > 5 else 1.0)

    monkeypatch.setattr(mult_vae, "multinomial_nll", nan_after_epoch_one)
    with pytest.raises(TrainingDiverged):
        run(composed(*VAE, *ml100k()), tmp_path / "run")
    s = summary(tmp_path / "run")
    assert s["status"] == "diverged" and "baseline.pt of epoch 1" in s["error"]
    kept = torch.load(tmp_path / "run" / "baseline.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in kept.values())


@pytest.mark.slow  # MovieLens-100K, three epochs twice, then a reproduction
def test_an_interrupted_run_resumes_to_identical_metrics_and_reproduces(workdir: Path) -> None:
    from mtfw.train import resume_run, run

    cfg = composed(*VAE, *ml100k())
    whole = run(cfg, workdir / "whole")
    broken = interrupted_after_first_epoch(cfg, workdir / "broken")
    assert summary(broken)["status"] == "interrupted"
    resumed = resume_run(broken, [])
    metrics = {k: v for k, v in whole.items() if k.startswith(("val/", "test/"))}
    assert metrics == {k: resumed[k] for k in metrics}
    proc = cli("reproduce", str(broken), f"out={workdir / 'again'}", cwd=workdir)
    assert proc.returncode == 0
