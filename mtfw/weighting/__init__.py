"""Loss weighting and gradient aggregation methods, one file each."""

from mtfw.weighting import static, uncertainty
from mtfw.weighting.base import LossWeighting, Weighting

__all__ = ["LossWeighting", "Weighting", "static", "uncertainty"]
