"""``mtfw recommend <run_dir> [users=ID,...] [users_file=F] [items=ID,...] [k=10] [out=F]``.

Loads a finished run (its config, selected weights or fitted baseline, and saved preprocessing)
and writes each user's top-k items with scores, best first, excluding every item the user has
already interacted with. Users are those of the dataset (default: all), or new (cold-start) users
given by their features in a CSV/parquet file whose first column is the user id. ``items=``
restricts the candidates.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from mtfw.data.tabular import read_table
from mtfw.errors import CheckpointError, ConfigError, MtfwError
from mtfw.metrics.ranking import top_k
from mtfw.recsys.batch import Sparse, UserInputs
from mtfw.recsys.prepare import RecData, RecPreprocessing
from mtfw.recsys.scorer import load_scorer
from mtfw.recsys.sequences import eval_history

OPTIONS = ("users", "users_file", "items", "k", "out")


def parse(argv: list[str]) -> tuple[Path, dict]:
    if not argv or "=" in argv[0]:
        raise ConfigError(
            "usage: mtfw recommend <run_dir> [users=ID,...] [users_file=FILE] "
            "[items=ID,...] [k=10] [out=FILE.csv|.parquet]"
        )
    options = {}
    for arg in argv[1:]:
        key, _, value = arg.partition("=")
        if key not in OPTIONS or not value:
            raise ConfigError(
                f"mtfw recommend: unknown option '{arg}'; options: "
                f"{', '.join(o + '=...' for o in OPTIONS)}"
            )
        options[key] = value
    return Path(argv[0]), options


def known_users(
    data: RecData, ids: list[str], length: int
) -> tuple[UserInputs, Sparse, torch.Tensor]:
    """Dataset users as of now: history and exclusions from all their interactions."""
    index = pd.Series(np.arange(1, len(data.users.ids) + 1), index=data.users.ids)
    unknown = [u for u in ids if u not in index.index]
    if unknown:
        raise ConfigError(
            f"{len(unknown)} unknown user(s), e.g. {', '.join(unknown[:5])}: the dataset has "
            f"{len(index)} users (ids like {', '.join(data.users.ids[:3])}). Give new users by "
            "their features with users_file=FILE"
        )
    uids = index.loc[ids].to_numpy()
    frame = data.interactions
    order = np.argsort(uids, kind="stable")
    seen = frame[frame["uid"].isin(uids)]
    rows = torch.from_numpy(np.searchsorted(uids[order], seen["uid"].to_numpy()))
    history = eval_history(frame, uids[order], length)
    inputs = data.users.inputs(torch.from_numpy(uids[order]), history)
    back = torch.from_numpy(np.argsort(order, kind="stable"))  # restore the requested order
    exclude = Sparse.from_pairs(rows, torch.tensor(seen["item"].to_numpy()), len(ids))
    return inputs, exclude, back


def new_users(path: Path, pre: RecPreprocessing, length: int) -> tuple[list[str], UserInputs]:
    """Cold-start users: features only (no history, unknown id), with the run's preprocessing."""
    frame = read_table(path)
    ids = frame.iloc[:, 0].astype(str).tolist()
    frame = frame.set_index(frame.columns[0])
    if "user_id" in pre.users.categorical:
        frame["user_id"] = "<new user>"  # never in the training vocabulary: the unknown id
    missing = [c for c in pre.users.categorical + pre.users.numeric if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"users_file={path} lacks feature column(s) {', '.join(missing)}; "
            f"its columns: {', '.join(map(str, frame.columns))}"
        )
    cat, num = pre.users.transform(frame)
    n = len(ids)
    history = torch.zeros(n, length, dtype=torch.long)
    return ids, UserInputs(torch.zeros(n, dtype=torch.long), cat, num, history)


def candidates(data: RecData, items: str | None) -> torch.Tensor | None:
    """``[I]`` bool: the items that may be recommended (None: all)."""
    if items is None:
        return None
    wanted = items.split(",")
    index = {item: i + 1 for i, item in enumerate(data.items.ids)}
    unknown = [i for i in wanted if i not in index]
    if unknown:
        raise ConfigError(
            f"unknown item(s) {', '.join(unknown[:5])}: the catalogue has "
            f"{len(index)} items (ids like {', '.join(data.items.ids[:3])})"
        )
    allowed = torch.zeros(len(data.items), dtype=torch.bool)
    allowed[[index[i] for i in wanted]] = True
    return allowed


def recommend(run_dir: Path, options: dict) -> pd.DataFrame:
    cfg: DictConfig = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    data, score, length = load_scorer(cfg, run_dir)
    k = int(options.get("k", 10))
    if "users_file" in options:
        pre = RecPreprocessing.load(run_dir / "preprocess.json")
        ids, inputs = new_users(Path(options["users_file"]), pre, length)
        exclude, back = Sparse.empty(len(ids)), None  # new users have seen nothing
    else:
        ids = options["users"].split(",") if "users" in options else list(data.users.ids)
        ids = list(dict.fromkeys(ids))  # each user once, in the order given
        inputs, exclude, back = known_users(data, ids, length)
    allowed = candidates(data, options.get("items"))
    tops, values = [], []
    for start in range(0, len(inputs), 1024):
        rows = slice(start, min(start + 1024, len(inputs)))
        scores = score(inputs, exclude, rows)
        mask = exclude.dense(rows, scores.shape[1])
        if allowed is not None:
            mask |= ~allowed
        mask[:, 0] = True  # the padding item
        top = top_k(scores, mask, k)
        tops.append(top)
        values.append(scores.float().masked_fill(mask, float("-inf")).gather(1, top))
    top, value = torch.cat(tops), torch.cat(values)
    if back is not None:
        top, value = top[back], value[back]
    valid = torch.isfinite(value)  # fewer than k items left: the list is shorter
    item_ids = np.array(["", *data.items.ids], dtype=object)
    n = top.shape[1]
    table = pd.DataFrame(
        {
            "user": np.repeat(np.array(ids, dtype=object), n),
            "rank": np.tile(np.arange(1, n + 1), len(ids)),
            "item": item_ids[top.flatten().numpy()],
            "score": value.flatten().numpy(),
        }
    )
    return table[valid.flatten().numpy()].reset_index(drop=True)


def main(argv: list[str]) -> None:
    try:
        run_dir, options = parse(argv)
        table = recommend(run_dir, options)
        out = options.get("out")
        if out is None:
            print(table.to_string(index=False))
        elif out.endswith(".parquet"):
            table.to_parquet(out, index=False)
        elif out.endswith(".csv"):
            table.to_csv(out, index=False)
        else:
            raise ConfigError(f"out={out}: write a .csv or a .parquet file")
        if out is not None:
            print(f"{table['user'].nunique()} users x top-{options.get('k', 10)} -> {out}")
    except (MtfwError, CheckpointError) as err:
        print(f"mtfw: error: {err}", file=sys.stderr)
        sys.exit(2)
