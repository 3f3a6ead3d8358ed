"""``mtfw explain RUN_DIR [split=val|test] [methods=permutation,integrated_gradients]
[repeats=5] [seed=0] [tasks=A,B] [fields=F,G] [out=DIR] [batch_size=N] [allow_unfinished=true]``.

Rebuilds a finished run from its saved config with its selected weights and saved preprocessing
(as ``mtfw recommend`` does), measures how much each input field drives each task on one split
(val unless ``split=test``) and writes the tables and figures (``explain.files``)."""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig

from mtfw.errors import CheckpointError, ConfigError
from mtfw.explain.options import ExplainOptions, parse
from mtfw.settings import closest


def check_run(run_dir: Path, options: ExplainOptions) -> DictConfig:
    """The run's config, after every check that needs no data: finished, a selected network
    (not a classical recommender), known tasks, Captum when asked for."""
    from mtfw.explain.gradients import require_captum
    from mtfw.recommend import check_finished
    from mtfw.run_files import read_config

    cfg = read_config(run_dir)
    check_finished(run_dir, options.allow_unfinished, command="explain")
    if cfg.get("baseline") is not None:
        raise ConfigError(
            f"{run_dir} is a classical recommender (baseline={cfg.baseline.name}): it has no "
            "input fields to explain; explain a run of a network (an encoder) instead"
        )
    if not (run_dir / "best.pt").is_file():
        raise CheckpointError(f"{run_dir}/best.pt is missing: the run has no selected model")
    trained = list(cfg.task)
    unknown = [t for t in options.tasks or [] if t not in trained]
    if unknown:
        raise ConfigError(
            f"mtfw explain: tasks={','.join(options.tasks)}: unknown task '{unknown[0]}'."
            f"{closest(unknown[0], trained)} The run's tasks: {', '.join(trained)}"
        )
    if "integrated_gradients" in options.methods:
        require_captum()
    return cfg


def output_directory(run_dir: Path, options: ExplainOptions) -> Path:
    from mtfw.explain.files import fresh_directory

    return fresh_directory(options.out or run_dir / "explain" / options.split)


def main(argv: list[str]) -> None:
    """mtfw's errors propagate to the CLI, which prints them once."""
    run_dir, options = parse(argv)
    cfg = check_run(run_dir, options)
    from mtfw.explain.run import explain

    started = time.perf_counter()
    result = explain(cfg, run_dir, options)
    out = output_directory(run_dir, options)
    written = result.write(out)
    print(result.summary())
    print(f"wrote {', '.join(p.name for p in written)} to {out} "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
