"""``mtfw sweep sweep=<name> [overrides]``: split the command line, compose the sweep's settings.

``sweep.*`` overrides change the study (``sweep.n_trials=50``); every other override applies to
each trial (``trainer.max_epochs=3``). As with Hydra's Optuna sweeper, an override of a searched
key replaces its search: a plain value fixes it (``encoder=mmoe``), a sweep expression searches it
instead (``'optim.lr=tag(log, interval(1e-3, 1e-1))'``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mtfw.errors import ConfigError
from mtfw.preflight import config_groups, preflight
from mtfw.settings import closest
from mtfw.sweep.compose import compose_config
from mtfw.sweep.spec import SweepSpec
from mtfw.sweep.values import parse_override
from mtfw.user_config.folders import UserFolders, active

USAGE = """usage: mtfw sweep sweep=<name> [overrides]

  mtfw sweep sweep=architecture                      the study of conf/sweep/architecture.yaml
  mtfw sweep sweep=architecture sweep.n_trials=50 sweep.n_jobs=2 trainer.max_epochs=3
  mtfw sweep sweep=task_weights sweep.dir=outputs/sweeps/tw     re-run the same to resume it
  mtfw sweep sweep=architecture sweep.storage=postgresql://user@host/db   workers on many machines
  mtfw sweep --config-dir ~/proj sweep=mine data=mine   your own folder (or MTFW_CONFIG_PATH)
  mtfw sweep sweep=architecture sweep.trial_launcher=torchrun sweep.nproc_per_node=2  (torchrun)

sweep.* settings: n_trials, n_jobs, objectives, sampler, pruner, storage, study_name, dir, resume,
allow_test_objective, fail_fast, timeout, enqueue, trial_launcher (process | torchrun),
nproc_per_node. Other overrides apply to every trial; one of a searched key fixes it
(encoder=mmoe) or replaces its search ('optim.lr=interval(1e-4,1e-2)').
"""


@dataclass(frozen=True)
class SweepRequest:
    """What the command line asks for, split before Hydra is initialised."""

    name: str
    argv: list[str]
    sweep_args: list[str]  # sweep=<name> and sweep.* overrides
    overrides: list[str]  # fixed overrides of every trial
    searched: dict[str, str]  # search expressions from the command line, by key
    folders: UserFolders = field(default_factory=UserFolders)  # the user's config folders

    @property
    def fixed_keys(self) -> set[str]:
        return {parse_override(a, "command line").key_or_group for a in self.overrides}


def parse_request(argv: list[str]) -> SweepRequest:
    """Split and pre-check the command line (before Hydra is initialised)."""
    options = config_groups().get("sweep", [])
    flags = [a for a in argv if a.startswith("-")]
    if flags:
        raise ConfigError(f"mtfw sweep takes overrides only, not {flags[0]}\n{USAGE}")
    names = [a.split("=", 1)[1] for a in argv if a.startswith("sweep=")]
    if len(names) != 1:
        raise ConfigError(
            f"name one sweep: mtfw sweep sweep=<name> [overrides]; conf/sweep/ has: "
            f"{', '.join(options)}"
        )
    name = names[0]
    if name not in options:
        raise ConfigError(
            f"unknown sweep '{name}'. Available in conf/sweep/: {', '.join(options)}."
            f"{closest(name, options)}"
        )
    folds = [a for a in argv if a.startswith("cv=")]
    if folds:
        raise ConfigError(
            f"{folds[0]}: cv=K is a multirun of K runs (mtfw train cv=K), and a sweep's trial is "
            "one run, in process or under torchrun (sweep.trial_launcher=torchrun). Search or fix "
            "one fold instead: data.split.folds=K data.split.fold=I"
        )
    sweep_args, overrides, searched = [f"sweep={name}"], [], {}
    for arg in argv:
        override = parse_override(arg, "command line")
        key = override.key_or_group
        if key == "sweep":
            continue
        if key.startswith("sweep."):
            sweep_args.append(arg)
        elif key.startswith("hydra."):
            raise ConfigError(
                f"{arg}: each trial runs in <sweep dir>/trials/<number>/; set sweep.dir=PATH"
            )
        elif override.is_sweep_override():
            searched[key] = arg.split("=", 1)[1]
        else:
            overrides.append(arg)
    preflight(argv)  # unknown config choices and keys, with the closest match
    return SweepRequest(name, list(argv), sweep_args, overrides, searched, active())


def load_spec(request: SweepRequest) -> SweepSpec:
    """The composed ``sweep`` node, with the command line's searched and fixed keys applied."""
    composed = compose_config([*request.sweep_args, *request.overrides])
    spec = SweepSpec.from_node(request.name, composed.cfg.sweep)
    fixed = request.fixed_keys
    params = {k: v for k, v in spec.params.items() if k not in fixed}
    return replace(spec, params={**params, **request.searched})
