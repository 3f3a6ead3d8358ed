"""Loss weighting and gradient aggregation methods, one file each (``mtfw list weighting``)."""

from mtfw.weighting import (
    aligned_mtl,
    cagrad,
    db_mtl,
    dwa,
    famo,
    graddrop,
    gradnorm,
    gradvac,
    imtl,
    mgda,
    nash_mtl,
    pcgrad,
    ple_decay,
    rlw,
    static,
    uncertainty,
    upgrad,
)
from mtfw.weighting.base import LossWeighting, Weighting
from mtfw.weighting.gradient import GradientWeighting

__all__ = [
    "GradientWeighting",
    "LossWeighting",
    "Weighting",
    "aligned_mtl",
    "cagrad",
    "db_mtl",
    "dwa",
    "famo",
    "graddrop",
    "gradnorm",
    "gradvac",
    "imtl",
    "mgda",
    "nash_mtl",
    "pcgrad",
    "ple_decay",
    "rlw",
    "static",
    "uncertainty",
    "upgrad",
]
