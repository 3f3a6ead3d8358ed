"""The tokenizer of the token encoders: NFKC-normalised, lower-cased, words of letters and digits
(an inner apostrophe kept: ``don't``), punctuation and whitespace dropped.

Texts are handled as a whole column at once: :func:`tokens` explodes them into one token per
row of a series indexed by the text's position, in reading order."""

from __future__ import annotations

import numpy as np
import pandas as pd

WORD = r"[^\W_]+(?:'[^\W_]+)*"


def clean(values: pd.Series) -> pd.Series:
    """Texts as strings, missing and blank ones as ``""`` (they get the empty-text vector)."""
    text = values.astype("string").fillna("").str.normalize("NFKC").str.strip()
    return text.reset_index(drop=True)


def tokens(values: pd.Series) -> pd.Series:
    """One lower-cased token per row, indexed by the text's position (texts without tokens are
    absent)."""
    words = clean(values).str.lower().str.findall(WORD).explode()
    return words.dropna().astype(str)


def positions(tokens_: pd.Series) -> np.ndarray:
    """Each token's position within its text (0 = first)."""
    rows = tokens_.index.to_numpy()
    return pd.Series(rows).groupby(rows).cumcount().to_numpy()


def frequent(tokens_: pd.Series, size: int, min_count: int) -> list[str]:
    """The ``size`` most frequent tokens seen ``min_count`` times or more (ties by the token,
    so the vocabulary does not depend on the row order)."""
    counts = tokens_.value_counts()
    counts = counts[counts >= min_count]
    frame = pd.DataFrame({"token": counts.index.astype(str), "n": counts.to_numpy()})
    frame = frame.sort_values(["n", "token"], ascending=[False, True], kind="stable")
    return frame["token"].head(size).tolist()
