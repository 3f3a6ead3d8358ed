"""``features.vae``: the settings of the VAE latent features, checked before any data loads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from omegaconf import DictConfig

from mtfw.errors import ConfigError
from mtfw.settings import plain, settings_from
from mtfw.value_types import Count, Fraction, Positive, Range, Share, check_ranges, declared_types

SIDES = ("user", "item", "both")
MaskShare = Annotated[float, Range(low=0, high=1, low_open=True)]


@dataclass(frozen=True)
class VaeFeatures:
    """``side``: whose latent features (user, item or both); ``latent``: their size; ``hidden``:
    the encoder's (and, mirrored, the decoder's) hidden widths; ``epochs``, ``batch_size``,
    ``lr`` (Adam): the VAE's training; ``beta``: the KL weight; ``dropout``: input dropout of
    the interaction part; ``mask``: the share of rows whose interaction part is masked (zeroed)
    in each batch, so the encoder learns to place an entity from its features alone, as it must
    for one without interactions; ``seed``: the VAE's initialisation, batches and masks."""

    side: str = "both"
    latent: Count = 32
    hidden: list[int] = field(default_factory=lambda: [256])
    epochs: Count = 50
    batch_size: Count = 128
    lr: Positive = 1e-3
    beta: Share = 0.2
    dropout: Fraction = 0.5
    mask: MaskShare = 0.5
    seed: int = 0

    @property
    def sides(self) -> list[str]:
        return ["user", "item"] if self.side == "both" else [self.side]


def vae_settings(cfg: DictConfig) -> VaeFeatures | None:
    """``features.vae`` read and checked (None when off): keys, types, ranges, the side, and that
    the run is a multi-task model on interaction data, the only reader of these features."""
    node = (cfg.get("features") or {}).get("vae")
    if node is None:
        return None
    values = plain(node)
    settings = settings_from(VaeFeatures, values, "features.vae")
    check_ranges(values, declared_types(VaeFeatures), "features.vae")
    if settings.side not in SIDES:
        raise ConfigError(
            f"features.vae.side={settings.side!r}: choose user (latent features of users, beside "
            "their features), item (of items, in the item embedding) or both"
        )
    if any(not isinstance(h, int) or h < 1 for h in settings.hidden):
        raise ConfigError(f"features.vae.hidden={settings.hidden}: widths are whole numbers >= 1")
    return settings


def check_vae_fits(cfg: DictConfig, provides: frozenset[str]) -> None:
    """The VAE needs interactions, and only a multi-task model reads its features."""
    if "interactions" not in provides:
        raise ConfigError(
            f"features.vae is set but data={cfg.data.name} is a flat table: VAE latent features "
            "are learned from users' and items' interactions, so they need interaction data "
            "(users, items, interactions, e.g. data=movielens100k); drop features=vae"
        )
    if cfg.get("baseline") is not None:
        raise ConfigError(
            f"features.vae is set with baseline={cfg.baseline.name}: the latent features are an "
            "input of the multi-task model, which a baseline does not use; drop features=vae or "
            "the baseline"
        )
