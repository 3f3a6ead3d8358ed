"""The model: input module, shared encoders (the MTL architectures), history encoders, heads."""

from mtfw.models import (
    aitm,
    cross_stitch,
    esmm,
    experts,
    field_experts,
    history,
    mmoe,
    ple,
    sasrec,
    shared_bottom,
    single_task,
)
from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.encoder import Encoder
from mtfw.models.inputs import InputEmbedding, PerTaskInputs
from mtfw.models.multitask import MultiTaskModel

__all__ = [
    "Encoder", "FeatureEmbedding", "InputEmbedding", "MultiTaskModel", "PerTaskInputs", "aitm",
    "cross_stitch", "esmm", "experts", "field_experts", "history", "mmoe", "ple",
    "sasrec", "shared_bottom", "single_task",
]  # fmt: skip
