"""Text columns as input fields (the ``text`` kind): a tokenizer, the ``bag_of_words`` and
``tfidf`` encoders fitted on train, and the frozen ``pretrained`` sentence encoder with its
on-disk cache. Each column becomes token ids and weights ``[N, L]`` that one field of the model
pools (see :mod:`mtfw.models.text_fields`)."""

from mtfw.data.text import encoders, pretrained
from mtfw.data.text.columns import TextColumns

__all__ = ["TextColumns", "encoders", "pretrained"]
