"""Classical recommenders, run with ``mtfw train experiment=ml100k_<name>``."""

from mtfw.recsys.baselines import bpr_mf, content, itemcf, popularity, usercf

__all__ = ["bpr_mf", "content", "itemcf", "popularity", "usercf"]
