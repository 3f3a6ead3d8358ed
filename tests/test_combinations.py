"""Every weighting config with every encoder, as shipped (no mode or option overrides): the issue's
promise that e.g. `mtfw train encoder=ple weighting=cagrad` just works. Enumerated from conf/."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from mtfw.preflight import CONF_DIR, config_groups
from mtfw.train import run

GROUPS = config_groups()
# Funnel encoders need their experiment's tasks; they are covered by tests/test_funnel.py.
ENCODERS = [e for e in GROUPS["encoder"] if e not in ("esmm", "aitm")]
PAIRS = [(w, e) for w in GROUPS["weighting"] for e in ENCODERS]


@pytest.mark.slow
@pytest.mark.parametrize(("weighting", "encoder"), PAIRS, ids=[f"{w}-{e}" for w, e in PAIRS])
def test_every_weighting_trains_with_every_encoder(
    weighting: str, encoder: str, tmp_path: Path
) -> None:
    overrides = [f"weighting={weighting}", f"encoder={encoder}", "experiment=synthetic",
                 "data.n_samples=300", "trainer.max_epochs=1", "trainer.batch_size=64"]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    summary = run(cfg, tmp_path / "run")
    assert summary["status"] == "completed"
    assert all(v == v for k, v in summary.items() if k.startswith("test/"))
