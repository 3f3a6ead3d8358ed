"""The GAN's generator as a candidate source beside the multi-task model, in evaluation and in
``mtfw recommend``: loaded from a referenced ``baseline=cfgan`` run (reusable by every MTL run
and sweep on the same split), checked against this run's data, and applied to each batch of
users' full-catalogue scores (batched tensor work; :mod:`mtfw.metrics.candidate_mix`).

The generator scores a user from the items known at the cut (validation: train items; test:
train + validation items; ``recommend``: every interaction), as the GAN run evaluated itself."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from mtfw import registry
from mtfw.candidates.settings import CandidateSettings, check_gan_run, gan_run_dir
from mtfw.data.batch import Inputs
from mtfw.data.prepared import PreparedData
from mtfw.errors import ConfigError
from mtfw.metrics.candidate_mix import mixed_scores, origins
from mtfw.run_files import read_summary

# The data keys of summary.json that two runs on the same data and split share.
SAME_SPLIT = ("data/checksum", "data/n_users", "data/n_items", "data/split_hash_train",
              "data/split_hash_val", "data/split_hash_test")  # fmt: skip


@dataclass
class CandidateMix:
    """The run's candidate settings with the GAN's generator (None: no GAN in play), for the
    tasks that rank the catalogue (``tasks``)."""

    settings: CandidateSettings
    generator: nn.Module | None
    tasks: list[str]

    def gan_scores(self, inputs: Inputs) -> Tensor | None:
        """``[B, I]`` the generator's scores of every item, from the known items at the cut."""
        if self.generator is None:
            return None
        with torch.no_grad():
            return self.generator(inputs.known.float())

    def scores(self, source: str, mtl: Tensor, gan: Tensor | None, exclude: Tensor) -> Tensor:
        s = self.settings
        return mixed_scores(source, mtl, gan, exclude, s.n_mtl, s.n_gan)

    def origins(self, source: str, mtl: Tensor, gan: Tensor | None, exclude: Tensor) -> Tensor:
        s = self.settings
        return origins(source, mtl, gan, exclude, s.n_mtl, s.n_gan)

    def apply(
        self, outputs: dict[str, Tensor], inputs: Inputs, unranked: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The ranking tasks' outputs as the run's source ranks them, plus ``<task>.<source>``
        for each reported source. Items known at the cut are never candidates, nor are
        ``unranked`` ones (``[B, I]``: under ``cold_start_items`` the items outside the split's
        held-out set), as the evaluation excludes them: a union drawn from warm items would
        otherwise leave no ranked candidate at all."""
        gan = self.gan_scores(inputs)
        exclude = inputs.known if unranked is None else inputs.known | unranked
        out = dict(outputs)
        for task in self.tasks:
            mtl = outputs[task]
            out[task] = self.scores(self.settings.source, mtl, gan, exclude)
            for source in self.settings.report:
                out[f"{task}.{source}"] = self.scores(source, mtl, gan, exclude)
        return out

    def to(self, device: torch.device) -> CandidateMix:
        if self.generator is not None:
            self.generator.to(device)
        return self


def build_candidates(
    cfg: DictConfig, settings: CandidateSettings, data: PreparedData, tasks: list[str]
) -> CandidateMix | None:
    """None when the run ranks by the MTL model alone; else the mix, with the GAN's generator
    loaded from ``candidates.gan_run`` once its data and split are this run's."""
    if not settings.active:
        return None
    if not settings.uses_gan:
        return CandidateMix(settings, None, tasks)
    run_dir = gan_run_dir(settings)
    gan_cfg = check_gan_run(cfg, run_dir)
    theirs, ours = read_summary(run_dir) or {}, data.info
    differences = [f"{k} is {theirs.get(k)!r} there, {ours.get(k)!r} here" for k in SAME_SPLIT
                   if theirs.get(k) != ours.get(k)]  # fmt: skip
    if differences:
        raise ConfigError(
            f"candidates.gan_run={run_dir} was fitted on other data or another split than this "
            f"run ({'; '.join(differences)}): its candidates would be drawn knowing this run's "
            "held-out items, or other ones. Train the GAN on this run's data and split"
        )
    gan = registry.build("baseline", gan_cfg.baseline, where=f"baseline of {run_dir}",
                         seed=gan_cfg.seed, task_names=[])  # fmt: skip
    try:
        state = torch.load(run_dir / "baseline.pt", map_location="cpu", weights_only=True)
        gan.load_state(state)
    except Exception as err:  # truncated or foreign: say which file, not a pickle trace
        raise ConfigError(
            f"candidates.gan_run={run_dir}: baseline.pt is not a readable CFGAN state ({err})"
        ) from None
    gan.generator.eval()
    return CandidateMix(settings, gan.generator, tasks)
