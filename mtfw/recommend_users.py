"""What ``mtfw recommend`` ranks for: a finished run rebuilt through the one builder, and the
users it is asked about (dataset users as of now, or new users given by their features)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig
from torch import nn

from mtfw import registry
from mtfw.data.batch import Inputs
from mtfw.data.interactions.preprocessing import RecPreprocessing
from mtfw.data.interactions.sequences import eval_history
from mtfw.data.interactions.sparse import Sparse
from mtfw.data.prepared import DataContext
from mtfw.data.reading import read_table
from mtfw.errors import CheckpointError, ConfigError
from mtfw.experiment import Experiment, build_experiment
from mtfw.models.text_fields import TextFields
from mtfw.recommend_items import encode_text, grow_vectors, text_values
from mtfw.run_files import read_record_file


def load_run(cfg: DictConfig, run_dir: Path) -> tuple[Experiment, str]:
    """(the run rebuilt from its config with its selected model loaded, the ranking task)."""
    if "interactions" not in registry.get("data", cfg.data.name).provides:
        raise ConfigError(
            f"{run_dir} was trained on data={cfg.data.name}, a flat table: "
            "recommend needs a run on interaction data"
        )
    exp = build_experiment(cfg, restoring=True)  # VAE encoders come from best.pt, not refitted
    ranking = [n for n, t in exp.tasks.items() if t.output == "item_scores"]
    if not ranking:
        raise ConfigError(
            f"{run_dir} has no ranking task ({', '.join(exp.tasks)}): nothing ranks items"
        )
    restore_selected(exp, run_dir)
    return exp, ranking[0]


def restore_selected(exp: Experiment, run_dir: Path) -> None:
    """Load the run's selected model (``best.pt``, or the fitted baseline) into ``exp``, built
    from the run's config, after checking the data still gives the run's saved preprocessing
    (``mtfw recommend``, ``mtfw explain``)."""
    path, fitted = run_dir / "preprocess.json", exp.data.preprocessor
    if read_record_file(path, "saved preprocessing") is None:
        raise CheckpointError(f"{path} is missing: the run saved no preprocessing")
    try:  # read as the run's own preprocessing class reads it (defaults of older files)
        saved = type(fitted).load(path).to_dict()
    except (KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path} is not this run's preprocessing ({err!r})") from None
    if json.loads(json.dumps(saved)) != json.loads(json.dumps(fitted.to_dict())):
        raise CheckpointError(
            f"the data no longer matches the run's saved preprocessing ({run_dir}/"
            "preprocess.json): the dataset changed since training"
        )
    exp.fitter.restore(exp, run_dir)


def known_users(context: DataContext, ids: list[str]) -> tuple[Inputs, Sparse, torch.Tensor]:
    """Dataset users as of now: history and exclusions from all their interactions."""
    users = context.users
    index = pd.Series(np.arange(1, len(users.ids) + 1), index=users.ids)
    unknown = [u for u in ids if u not in index.index]
    if unknown:
        raise ConfigError(
            f"{len(unknown)} unknown user(s), e.g. {', '.join(unknown[:5])}: the dataset has "
            f"{len(index)} users (ids like {', '.join(users.ids[:3])}). Give new users by "
            "their features with users_file=FILE"
        )
    uids = index.loc[ids].to_numpy()
    frame = context.interactions
    order = np.argsort(uids, kind="stable")
    seen = frame[frame["uid"].isin(uids)]
    rows = torch.from_numpy(np.searchsorted(uids[order], seen["uid"].to_numpy()))
    history = eval_history(frame, uids[order], context.inputs.history_length)
    inputs = users.inputs(torch.from_numpy(uids[order]), history)
    back = torch.from_numpy(np.argsort(order, kind="stable"))  # restore the requested order
    exclude = Sparse.from_pairs(rows, torch.tensor(seen["item"].to_numpy()), len(ids))
    return inputs, exclude, back


def new_users(
    path: Path, pre: RecPreprocessing, length: int, model: nn.Module
) -> tuple[list[str], Inputs]:
    """Cold-start users: features and text only (no history, unknown id), with the run's fitted
    preprocessing (checked equal to its ``preprocess.json``); a pretrained text column encodes
    their texts and ``model``'s user side gets their vectors."""
    frame = read_table(path)
    ids = frame.iloc[:, 0].astype(str).tolist()
    frame = frame.set_index(frame.columns[0])
    if "user_id" in pre.users.categorical:
        frame["user_id"] = "<new user>"  # never in the training vocabulary: the unknown id
    columns = pre.users.categorical + pre.users.numeric + pre.users.text.names
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"users_file={path} lacks feature column(s) {', '.join(missing)}; "
            f"its columns: {', '.join(map(str, frame.columns))}"
        )
    cat, num = pre.users.transform(frame)
    n = len(ids)
    history = torch.zeros(n, length, dtype=torch.long)
    text = weights = None
    if pre.users.text:
        for column in pre.users.text.names:
            frame[column] = text_values(frame[column])
        text, weights = encode_text(pre.users.text, frame)
        item_side = getattr(model, "items", None)
        item_fields = None if item_side is None else item_side.features.text
        for fields in model.modules():
            if isinstance(fields, TextFields) and fields is not item_fields:
                grow_vectors(fields, pre.users.text)
    return ids, Inputs(cat, num, uid=torch.zeros(n, dtype=torch.long), history=history,
                       text=text, text_weights=weights)  # fmt: skip


def candidates(context: DataContext, items: str | None) -> torch.Tensor | None:
    """``[I]`` bool: the items that may be recommended (None: all)."""
    if items is None:
        return None
    wanted = items.split(",")
    index = {item: i + 1 for i, item in enumerate(context.items.ids)}
    unknown = [i for i in wanted if i not in index]
    if unknown:
        raise ConfigError(
            f"unknown item(s) {', '.join(unknown[:5])}: the catalogue has "
            f"{len(index)} items (ids like {', '.join(context.items.ids[:3])})"
        )
    allowed = torch.zeros(len(context.items), dtype=torch.bool)
    allowed[[index[i] for i in wanted]] = True
    return allowed
