"""Feature embedding, shared encoders (the MTL architectures) and task heads."""

from mtfw.models import (
    aitm,
    cross_stitch,
    esmm,
    experts,
    field_experts,
    mmoe,
    ple,
    shared_bottom,
    single_task,
)
from mtfw.models.embedding import FeatureEmbedding, PerTaskEmbedding
from mtfw.models.encoder import Encoder
from mtfw.models.multitask import MultiTaskModel

__all__ = [
    "Encoder",
    "FeatureEmbedding",
    "MultiTaskModel",
    "PerTaskEmbedding",
    "aitm",
    "cross_stitch",
    "esmm",
    "experts",
    "field_experts",
    "mmoe",
    "ple",
    "shared_bottom",
    "single_task",
]  # fmt: skip
