"""K-fold cross-validation: which of K folds each row (or each group of rows) is in, seeded.

- plain: a seeded permutation of the rows dealt round-robin into the folds, so fold sizes differ
  by at most one;
- stratified (``data.split.stratify``): the same deal within each class of a label, each class
  continuing where the one before stopped: every fold holds its share of every class within one
  (rare positives spread evenly) and fold sizes still differ by at most one;
- grouped (``data.split.group``): all rows of one group (a user id) go to one fold. Groups, the
  heaviest first (ties in a seeded order), each join the fold whose loads grow least: the sum of
  squares of the folds' rows (grouped) or of their rows per class, each class over its total
  (stratified and grouped), so folds stay even in size and in the rare class.

The validation rows are carved from the K-1 training folds with the ``val`` share by the same
rules (a stratified share, whole groups), so model selection never sees the test fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtfw.errors import ConfigError
from mtfw.settings import closest

MAX_CLASSES = 50  # more distinct values than this is not a label to stratify by


class FoldError(ConfigError):
    """A cross-validation setting that this data cannot satisfy: a missing column, a label that is
    not categorical, more folds than rows, groups or members of the rarest class."""


def column_codes(frame: pd.DataFrame, column: str, key: str) -> np.ndarray:
    """``frame[column]`` as integer codes (a missing value is a value of its own)."""
    if column not in frame.columns:
        raise FoldError(f"data.split.{key}={column}: the data has no column '{column}'."
                        f"{closest(column, [str(c) for c in frame.columns])} Columns: "
                        f"{', '.join(map(str, frame.columns))}")  # fmt: skip
    return pd.factorize(frame[column], use_na_sentinel=False)[0].astype(np.int64)


def class_codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The classes of a binary or categorical label; refused for a continuous column."""
    codes = column_codes(frame, column, "stratify")
    values = frame[column]
    distinct = int(codes.max()) + 1 if len(codes) else 0
    continuous = pd.api.types.is_float_dtype(values) and not np.all(
        np.isnan(values) | (np.asarray(values) == np.round(values))
    )
    if continuous or distinct > MAX_CLASSES:
        example = values.dropna().iloc[0] if values.notna().any() else None
        raise FoldError(
            f"data.split.stratify={column}: stratified folds need a binary or categorical label "
            f"(at most {MAX_CLASSES} distinct values), but '{column}' has {distinct} distinct "
            f"values (e.g. {example!r}); stratify by a label with few values, or leave "
            "data.split.stratify unset"
        )
    return codes


def check_fold_count(k: int, n: int, classes: np.ndarray | None, groups: np.ndarray | None) -> None:
    """Every fold must be able to hold rows (groups; and members of the rarest class)."""
    units, what = (n, "rows") if groups is None else (len(np.unique(groups)), "groups")
    if k > units:
        raise FoldError(f"data.split.folds={k} is more than the {units} {what} of the data: "
                        f"every fold needs at least one; use at most {units} folds")  # fmt: skip
    if classes is None:
        return
    counts = np.bincount(classes)
    rare = int(np.argmin(counts))
    holders = counts[rare] if groups is None else len(np.unique(groups[classes == rare]))
    if k > holders:
        of = "rows" if groups is None else "groups holding rows"
        raise FoldError(
            f"data.split.folds={k} is more than the {holders} {of} of the rarest class of the "
            f"stratify label: a stratified fold would get none; use at most {holders} folds"
        )


def assign_folds(
    k: int,
    seed: int,
    n: int,
    classes: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """The fold (0..k-1) of each of ``n`` rows."""
    check_fold_count(k, n, classes, groups)
    rng = np.random.default_rng(seed)
    if groups is not None:
        return _grouped(k, rng, classes, groups)
    order = stratified_order(rng, n, classes)
    fold = np.empty(n, dtype=np.int64)
    fold[order] = np.arange(n) % k
    return fold


def stratified_order(rng: np.random.Generator, n: int, classes: np.ndarray | None) -> np.ndarray:
    """A seeded order of the rows, one class after another: dealt round-robin it gives every
    fold its share of each class within one."""
    order = rng.permutation(n)
    if classes is None:
        return order
    return order[np.argsort(classes[order], kind="stable")]


def _loads(classes: np.ndarray | None, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group codes 0..G-1 per row, [G, C] rows per group and class over the class totals)."""
    _, gid = np.unique(groups, return_inverse=True)
    cls = np.zeros(len(groups), dtype=np.int64) if classes is None else classes
    counts = np.zeros((gid.max() + 1, cls.max() + 1))
    np.add.at(counts, (gid, cls), 1.0)
    return gid, counts / counts.sum(axis=0, keepdims=True)


def _grouped(k: int, rng: np.random.Generator, classes, groups) -> np.ndarray:
    gid, share = _loads(classes, groups)
    shuffled = rng.permutation(len(share))
    heaviest = shuffled[np.argsort(-share[shuffled].sum(axis=1), kind="stable")]
    load = np.zeros((k, share.shape[1]))
    fold_of_group = np.empty(len(share), dtype=np.int64)
    for g in heaviest:  # the growth of sum(load^2) when group g joins each fold
        f = int(np.argmin((share[g] * (2 * load + share[g])).sum(axis=1)))
        load[f] += share[g]
        fold_of_group[g] = f
    return fold_of_group[gid]


def carve_val(
    rows: np.ndarray,
    share: float,
    seed: int,
    classes: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """A seeded ``share`` of ``rows`` (stratified, or whole groups) as validation rows."""
    rng = np.random.default_rng([seed, 1])  # a stream of its own: folds never move with val
    wanted = round(len(rows) * share)
    if groups is None:
        sub = None if classes is None else classes[rows]
        order = stratified_order(rng, len(rows), sub)
        if sub is not None:  # classes interleaved: any prefix holds each class's share
            position = np.empty(len(rows))
            for c in np.unique(sub):
                members = order[sub[order] == c]
                position[members] = (np.arange(len(members)) + rng.random()) / len(members)
            order = np.argsort(position, kind="stable")
        return np.sort(rows[order[:wanted]])
    _, gid = np.unique(groups[rows], return_inverse=True)
    sizes = np.bincount(gid)
    chosen = rng.permutation(len(sizes))
    cut = int(np.searchsorted(np.cumsum(sizes[chosen]), wanted)) + 1 if wanted else 0
    return np.sort(rows[np.isin(gid, chosen[:cut])])
