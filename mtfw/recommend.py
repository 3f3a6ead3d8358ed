"""``mtfw recommend <run_dir> [users=ID,...] [users_file=F] [items=ID,...] [k=10] [out=F]``.

Loads a finished run (its config, selected weights or fitted baseline, and saved preprocessing)
and writes each user's top-k items with scores, best first, excluding every item the user has
already interacted with. Users are those of the dataset (default: all), or new (cold-start) users
given by their features in a CSV/parquet file whose first column is the user id. ``items=``
restricts the candidates; ``items_file`` adds new items, given by the run's item feature and text
columns (first column: the item id; ``mtfw.recommend_items``), ranked beside the catalogue or,
with ``only_new=true``, alone. The lists come from the run's candidate source
(``candidates.source``: the model's own ranking, a GAN's, or their union);
``candidates.source=gan`` (also ``n_mtl``, ``n_gan``, ``gan_run``) overrides it, and with a GAN in
play a ``source`` column says who proposed each item (mtl, gan or both).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from omegaconf import OmegaConf

from mtfw.data.batch import Batch
from mtfw.data.interactions.sparse import Sparse
from mtfw.errors import CheckpointError, ConfigError
from mtfw.metrics.candidate_mix import ORIGIN_NAMES
from mtfw.metrics.ranking import top_k
from mtfw.recommend_items import new_items, read_items_file
from mtfw.recommend_users import candidates, known_users, load_run, new_users
from mtfw.run_files import read_config, read_summary
from mtfw.trainer.evaluate import eval_mode

OPTIONS = ("users", "users_file", "items", "items_file", "only_new", "k", "out", "allow_unfinished")
CANDIDATE_KEYS = tuple(f"candidates.{k}" for k in ("source", "n_mtl", "n_gan", "gan_run"))


def parse(argv: list[str]) -> tuple[Path, dict]:
    if not argv or "=" in argv[0]:
        raise ConfigError(
            "usage: mtfw recommend <run_dir> [users=ID,...] [users_file=FILE] "
            "[items=ID,...] [items_file=FILE [only_new=true]] [k=10] [out=FILE.csv|.parquet] "
            "[candidates.source=mtl|gan|union]"
        )
    options = {}
    for arg in argv[1:]:
        key, _, value = arg.partition("=")
        if key not in (*OPTIONS, *CANDIDATE_KEYS) or not value:
            raise ConfigError(
                f"mtfw recommend: unknown option '{arg}'; options: "
                f"{', '.join(o + '=...' for o in (*OPTIONS, *CANDIDATE_KEYS))}"
            )
        options[key] = value
    if not options.get("k", "10").isdigit() or int(options.get("k", "10")) < 1:
        raise ConfigError(f"mtfw recommend: k={options['k']}: give a whole number >= 1")
    for flag in ("allow_unfinished", "only_new"):
        if options.get(flag, "false") not in ("true", "false"):
            raise ConfigError(f"mtfw recommend: {flag} takes true or false")
    if options.get("only_new") == "true" and "items_file" not in options:
        raise ConfigError("mtfw recommend: only_new=true ranks the items of items_file=FILE alone; "
                          "give that file too")  # fmt: skip
    return Path(argv[0]), options


def check_finished(run_dir: Path, allow_unfinished: bool, command: str = "recommend") -> None:
    """A run that never completed (interrupted, failed, diverged) is used (to recommend, to be
    explained) only when asked to."""
    status = (read_summary(run_dir) or {}).get("status")
    if status != "completed" and not allow_unfinished:
        raise CheckpointError(
            f"{run_dir} did not complete (status {status or 'none: no summary.json'}); its "
            f"selected model may be a poor one. Pass allow_unfinished=true to {command} "
            f"{'from it' if command == 'recommend' else 'it'}"
        )


def recommend(run_dir: Path, options: dict) -> pd.DataFrame:
    cfg = read_config(run_dir)
    check_finished(run_dir, options.get("allow_unfinished") == "true")
    k = int(options.get("k", 10))
    for key in CANDIDATE_KEYS:  # the run's candidate source, or the one asked for
        if key in options:
            value = yaml.safe_load(options[key])  # null, a number, a name or a path
            OmegaConf.update(cfg, key, value, force_add=True)
    new = read_items_file(cfg, run_dir, options)
    exp, ranking = load_run(cfg, run_dir)
    mix = exp.candidates
    context = exp.data.context
    pre = exp.data.preprocessor  # fitted as the run's, checked equal to its preprocess.json
    item_ids = ["", *context.items.ids]
    if new is not None:
        item_ids += new_items(new, exp.model, pre.items, context.items.ids)
    if "users_file" in options:
        length = context.inputs.history_length
        ids, inputs = new_users(Path(options["users_file"]), pre, length, exp.model)
        exclude, back = Sparse.empty(len(ids)), None  # new users have seen nothing
    else:
        ids = options["users"].split(",") if "users" in options else list(context.users.ids)
        ids = list(dict.fromkeys(ids))  # each user once, in the order given
        inputs, exclude, back = known_users(context, ids)
    allowed = candidates(context, options.get("items"))
    n_new = len(item_ids) - len(context.items)
    if n_new:  # the new items may be recommended; with only_new=true only they
        old = allowed if allowed is not None else torch.ones(len(context.items), dtype=torch.bool)
        only_new = options.get("only_new") == "true"
        old = torch.zeros_like(old) if only_new else old
        allowed = torch.cat([old, torch.ones(n_new, dtype=torch.bool)])
    tops, values, sources = [], [], []
    for start in range(0, len(inputs), 1024):
        rows = slice(start, min(start + 1024, len(inputs)))
        batch = Batch(inputs.rows(rows).to(exp.device), {}, {})
        batch.inputs.known = exclude.dense(rows, len(context.items)).to(exp.device)
        with torch.no_grad(), eval_mode(exp.model):
            scores = exp.model.eval_outputs(batch, only=[ranking])[ranking].cpu()
            gan = None if mix is None else mix.gan_scores(batch.inputs)
        gan = None if gan is None else gan.cpu()
        if gan is not None and gan.shape[1] < scores.shape[1]:  # never proposes a new item
            gan = torch.nn.functional.pad(
                gan, (0, scores.shape[1] - gan.shape[1]), value=float("-inf")
            )
        mask = exclude.dense(rows, scores.shape[1])
        if allowed is not None:
            mask |= ~allowed
        mask[:, 0] = True  # the padding item
        origin = None
        if mix is not None:  # the run's candidate source ranks its candidates
            source = mix.settings.source
            origin = mix.origins(source, scores, gan, mask)
            scores = mix.scores(source, scores, gan, mask)
        top = top_k(scores, mask, k)
        tops.append(top)
        values.append(scores.float().masked_fill(mask, float("-inf")).gather(1, top))
        sources.append(None if origin is None else origin.gather(1, top))
    top, value = torch.cat(tops), torch.cat(values)
    origin = None if mix is None or mix.generator is None else torch.cat(sources)
    if back is not None:
        top, value = top[back], value[back]
        origin = None if origin is None else origin[back]
    valid = torch.isfinite(value)  # fewer than k items left: the list is shorter
    item_ids = np.array(item_ids, dtype=object)
    n = top.shape[1]
    table = pd.DataFrame(
        {
            "user": np.repeat(np.array(ids, dtype=object), n),
            "rank": np.tile(np.arange(1, n + 1), len(ids)),
            "item": item_ids[top.flatten().numpy()],
            "score": value.flatten().numpy(),
        }
    )
    if origin is not None:  # who proposed each item: mtl, gan or both
        names = np.array([ORIGIN_NAMES.get(code, "") for code in range(4)], dtype=object)
        table["source"] = names[origin.flatten().numpy()]
    return table[valid.flatten().numpy()].reset_index(drop=True)


def main(argv: list[str]) -> None:
    """mtfw's errors propagate to the CLI, which prints them once."""
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
