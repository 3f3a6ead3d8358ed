"""Classical recommenders (the ``baseline`` kind), run with ``mtfw train experiment=ml100k_<name>``:
content-based, user- and item-based collaborative filtering, model-based CF (BPR-MF), popularity,
and the generative Mult-VAE / Mult-DAE and CFGAN."""

from mtfw.baselines import bpr_mf, cfgan, content, itemcf, mult_vae, popularity, usercf

__all__ = ["bpr_mf", "cfgan", "content", "itemcf", "mult_vae", "popularity", "usercf"]
