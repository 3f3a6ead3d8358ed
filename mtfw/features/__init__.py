"""Input features learned before the multi-task model trains (``features:`` in the config):
``features.vae``, VAE latent features of users and items for cold start."""

from mtfw.features.settings import VaeFeatures, vae_settings

__all__ = ["VaeFeatures", "vae_settings"]
