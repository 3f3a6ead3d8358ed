"""Classical recommenders (the ``baseline`` kind), run with ``mtfw train experiment=ml100k_<name>``:
content-based, user- and item-based collaborative filtering, model-based CF (BPR-MF), popularity."""

from mtfw.baselines import bpr_mf, content, itemcf, popularity, usercf

__all__ = ["bpr_mf", "content", "itemcf", "popularity", "usercf"]
