"""A tiny randomly initialised sentence-transformers model (2 BERT layers, hidden size 32, a
WordPiece vocabulary of a few hundred words), built and saved in a test's folder in seconds: the
real loading, tokenising, batching, caching and projection code runs on it."""

from __future__ import annotations

from pathlib import Path

REVIEW_WORDS = (
    "great love perfect comfortable beautiful poor cheap broke returned awful the dress shoes fit "
    "color size and was it very toy story golden eye four rooms get shorty copycat"
)
WORDS = sorted({*REVIEW_WORDS.split(" "), *(f"w{i}" for i in range(200))})
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_sentence_model(folder: Path, max_positions: int = 64, seed: int = 0) -> Path:
    """A sentence-transformers model folder (modules.json, the transformer, mean pooling)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    vocab = [*SPECIAL, *WORDS, *"abcdefghijklmnopqrstuvwxyz"]
    # The vocabulary as a mapping: transformers 5 reads a ``vocab_file`` given to the fast
    # tokenizer as its special tokens only, which would make every word [UNK].
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)})
    assert tokenizer.tokenize("great dress") == ["great", "dress"], "the test vocabulary is lost"
    tokenizer.save_pretrained(raw)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(SPECIAL) + len(WORDS) + 26, hidden_size=32,
                        num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=max_positions)  # fmt: skip
    BertModel(config).save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=max_positions)
    pooling = Pooling(32, "mean")
    out = folder / "tiny-st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(out))
    return out
