"""Feature embedding, shared encoders (the MTL architectures) and task heads."""

from mtfw.models import mmoe, shared_bottom
from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.encoder import Encoder
from mtfw.models.multitask import MultiTaskModel

__all__ = ["Encoder", "FeatureEmbedding", "MultiTaskModel", "mmoe", "shared_bottom"]
