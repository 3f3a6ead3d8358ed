"""The ``candidates:`` node: where a ranking task's top-k lists come from (``mtl``, ``gan``,
``union``; :mod:`mtfw.metrics.candidate_mix`), and the GAN run that proposes them.

Checked before any data loads: the values; a source that needs a GAN has ``gan_run``; that run
exists, completed, is a ``baseline=cfgan`` run and was made with the same data and split settings
as this run (:func:`check_gan_run`). After the data is prepared, its data checksum and split
hashes must equal this run's too (``mtfw.candidates.gan_source``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mtfw.errors import CheckpointError, ConfigError
from mtfw.metrics.candidate_mix import SOURCES
from mtfw.run_files import read_config, read_summary
from mtfw.settings import closest, settings_from
from mtfw.value_types import check_range

NEEDS_GAN = ("gan", "union")
TRAIN_GAN = "mtfw train experiment=ml100k_cfgan (with this run's data.split settings)"


@dataclass(frozen=True)
class CandidateSettings:
    source: str = "mtl"  # the run's own lists: mtl | gan | union
    gan_run: str | None = None  # a completed baseline=cfgan run directory
    n_mtl: int = 5  # union: the MTL model's own best items
    n_gan: int = 50  # union: the GAN's best items
    report: list[str] = field(default_factory=list)  # also evaluated: <split>/<task>.<source>/

    @property
    def uses_gan(self) -> bool:
        return any(s in NEEDS_GAN for s in (self.source, *self.report))

    @property
    def active(self) -> bool:
        """Whether evaluation differs from the MTL model's own lists at all."""
        return self.source != "mtl" or bool(self.report)


def candidate_settings(cfg: DictConfig) -> CandidateSettings:
    """The run's ``candidates:`` node, checked (a config without one: the MTL model's lists)."""
    node = cfg.get("candidates")
    settings = settings_from(CandidateSettings, node, "candidates")
    for name in (settings.source, *settings.report):
        if name not in SOURCES:
            key = "source" if name == settings.source else "report"
            raise ConfigError(
                f"candidates.{key}: '{name}' is not a candidate source; sources: "
                f"{', '.join(SOURCES)} (mtl: the multi-task model's own ranking; gan: the GAN's; "
                f"union: the MTL model re-ranking both models' candidates).{closest(name, SOURCES)}"
            )
    if len(set(settings.report)) < len(settings.report):
        raise ConfigError(f"candidates.report={settings.report} names a source twice")
    check_range("candidates.n_mtl", settings.n_mtl, low=0)
    check_range("candidates.n_gan", settings.n_gan, low=0)
    if settings.uses_gan and not settings.gan_run:
        needing = settings.source if settings.source in NEEDS_GAN else settings.report
        key = "source" if settings.source in NEEDS_GAN else "report"
        raise ConfigError(
            f"candidates.{key}={needing} needs the GAN's candidates: set "
            "candidates.gan_run=<a completed baseline=cfgan run directory on the same data and "
            f"split>; train one with {TRAIN_GAN}"
        )
    return settings


def check_candidates(cfg: DictConfig, ranking_k: dict[str, list[int]]) -> CandidateSettings:
    """All that can be checked of ``candidates:`` before data loads. ``ranking_k``: the run's
    tasks that rank the catalogue, with their cut-offs."""
    settings = candidate_settings(cfg)
    if not settings.active:
        return settings
    what = f"candidates.source={settings.source}, report={settings.report}"
    if cfg.get("baseline") is not None:
        raise ConfigError(
            f"{what}: candidates mix a multi-task model's ranking with a GAN's, but this run is "
            f"baseline={cfg.baseline.name}, which ranks on its own; drop the candidates settings"
        )
    if not ranking_k:
        raise ConfigError(
            f"{what}: no selected task ranks the catalogue (the candidates are items of a "
            f"ranking task's top-k); add one, e.g. 'task=[ranking,interest]' on interaction data"
        )
    largest = max(max(k) for k in ranking_k.values())
    unions = "union" in (settings.source, *settings.report)
    if unions and max(settings.n_mtl, settings.n_gan) < largest:
        raise ConfigError(
            f"candidates.n_mtl={settings.n_mtl} and n_gan={settings.n_gan}: the union may hold "
            f"fewer items than the largest cut-off the ranking task reports (k={largest}); make "
            f"n_mtl or n_gan at least {largest}"
        )
    if settings.uses_gan:
        check_gan_run(cfg, gan_run_dir(settings))
    return settings


def gan_run_dir(settings: CandidateSettings) -> Path:
    """``candidates.gan_run`` (relative paths: from the working directory, as data.path)."""
    return Path(str(settings.gan_run)).expanduser()


def check_gan_run(cfg: DictConfig, run_dir: Path) -> DictConfig:
    """The GAN run's config, after checking it is a completed ``baseline=cfgan`` run fitted with
    this run's data and split settings (the data's own hashes are compared once it is loaded)."""
    where = f"candidates.gan_run={run_dir}"
    if not run_dir.is_dir():
        raise ConfigError(f"{where}: no such run directory; train the GAN first with {TRAIN_GAN}")
    try:
        gan_cfg, summary = read_config(run_dir), read_summary(run_dir)
    except CheckpointError as err:
        raise ConfigError(f"{where}: {err}") from None
    name = (gan_cfg.get("baseline") or {}).get("name")
    if name != "cfgan":
        made = f"baseline={name}" if name else f"a network (encoder={gan_cfg.get('encoder', {})})"
        raise ConfigError(
            f"{where} is {made}, not a GAN: candidates come from a completed baseline=cfgan run "
            f"(its generator scores the catalogue); train one with {TRAIN_GAN}"
        )
    status = (summary or {}).get("status")
    if status != "completed" or not (run_dir / "baseline.pt").is_file():
        raise ConfigError(
            f"{where} did not complete (status {status or 'none: no summary.json'}) or has no "
            "baseline.pt: only a finished GAN run's selected generator proposes candidates"
        )
    differences = split_differences(cfg.data, gan_cfg.data)
    if differences:
        raise ConfigError(
            f"{where} was fitted on other data or another split ({'; '.join(differences)}): "
            "its candidates would be drawn knowing this run's held-out items, or other ones. "
            "Use a GAN run made with this run's data.name and data.split settings"
        )
    return gan_cfg


def split_differences(ours: DictConfig, theirs: DictConfig) -> list[str]:
    """``key: theirs -> ours`` for the data settings that decide the split (name, split.*)."""
    mine = OmegaConf.to_container(ours, resolve=False)
    other = OmegaConf.to_container(theirs, resolve=False)
    keys = ["name", *(f"split.{k}" for k in sorted({*mine.get("split", {}),
                                                     *other.get("split", {})}))]  # fmt: skip
    out = []
    for key in keys:
        a, b = (OmegaConf.select(OmegaConf.create(c), key) for c in (other, mine))
        if a != b:
            out.append(f"data.{key} is {a!r} there, {b!r} here")
    return out
