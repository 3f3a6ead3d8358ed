"""The sweep's search space, objectives and settings: the Optuna-sweeper grammar parsed by Hydra's
own parser, conditional parameters sampled only where they belong (real compose, real Optuna)."""

from __future__ import annotations

import optuna
import pytest
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from mtfw import registry
from mtfw.cli import list_components
from mtfw.errors import ConfigError
from mtfw.preflight import CONF_DIR, config_groups
from mtfw.sweep.compose import compose_config, hydra_context
from mtfw.sweep.objectives import parse_objectives
from mtfw.sweep.samplers import build_pruner, build_sampler
from mtfw.sweep.search import SearchSpace
from mtfw.sweep.space import parse_param
from mtfw.sweep.spec import SweepSpec
from mtfw.sweep.validate import check_enqueue, check_space
from mtfw.sweep.values import format_value, parse_override

GROUPS = config_groups()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("choice(mmoe, shared_bottom)", CategoricalDistribution(["mmoe", "shared_bottom"])),
        ("mmoe,shared_bottom", CategoricalDistribution(["mmoe", "shared_bottom"])),
        ("choice(4, 8, 16)", CategoricalDistribution([4, 8, 16])),
        ("interval(0.1, 0.5)", FloatDistribution(0.1, 0.5)),
        ("tag(log, interval(1e-4, 1e-1))", FloatDistribution(1e-4, 1e-1, log=True)),
        ("int(interval(2, 8))", IntDistribution(2, 8)),
        ("tag(log, int(interval(2, 64)))", IntDistribution(2, 64, log=True)),
        ("range(1, 4)", IntDistribution(1, 3)),  # Hydra's range excludes its stop
        ("range(0, 10, step=3)", IntDistribution(0, 9, step=3)),
        ("range(0.1, 0.5, 0.1)", FloatDistribution(0.1, 0.4, step=0.1)),
    ],
)
def test_grammar_of_hydras_optuna_sweeper(expression: str, expected) -> None:
    param = parse_param("x.y", expression)
    assert param.distribution == expected and param.when is None


def test_list_choices_travel_as_text_and_come_back_as_lists() -> None:
    param = parse_param("encoder.expert.hidden", "choice([64], [128, 64])")
    assert param.distribution.choices == ("[64]", "[128,64]")
    assert param.real("[128,64]") == [128, 64]
    assert param.override([128, 64]) == "encoder.expert.hidden=[128,64]"


@pytest.mark.parametrize(
    "value", [None, True, 3, 0.001, 1e-05, "mmoe", "a b", "true", "5x", [64, 32], {"a": 1}]
)
def test_format_value_round_trips_through_hydras_parser(value) -> None:
    parsed = parse_override(f"k={format_value(value)}", "test").value()
    assert parsed == value and type(parsed) is type(value)


def test_plain_values_are_fixed_overrides() -> None:
    assert parse_param("trainer.patience", 2) == "trainer.patience=2"
    assert parse_param("encoder", "mmoe") == "encoder=mmoe"
    assert parse_param("encoder.expert.hidden", [64]) == "encoder.expert.hidden=[64]"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("interval(1e-3)", "cannot parse"),
        ("choise(a, b)", "cannot parse"),
        ("tag(lg, interval(1, 2))", "unknown tag 'lg'"),
        ("tag(log, choice(1, 2))", "applies to interval(...) only"),
        ("interval(2, 1)", "needs low < high"),
        ("tag(log, interval(0, 1))", "a log interval needs low > 0"),
        ("range(5, 1)", "is empty"),
        ("choice(1, 1)", "lists a value twice"),
        ({"values": "choice(1, 2)", "wehn": "present"}, "Did you mean 'when'"),
        ({"values": "choice(1, 2)", "when": "always"}, "expected 'present'"),
        ({"values": 3, "when": "present"}, "needs a sweep"),
    ],
)
def test_bad_grammar_fails_with_a_clear_message(entry, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_param("x", entry)


def test_conditions_must_name_a_parameter_and_one_of_its_values() -> None:
    raw = {"encoder": "choice(mmoe, cgc)", "encoder.levels": {"values": "range(1, 3)"}}
    with pytest.raises(ConfigError, match="Did you mean 'encoder'"):
        raw["encoder.levels"]["when"] = {"encodr": ["ple"]}
        SearchSpace.parse(raw, ["income"], GROUPS)
    with pytest.raises(ConfigError, match="is not among its choices"):
        raw["encoder.levels"]["when"] = {"encoder": ["plee"]}
        SearchSpace.parse(raw, ["income"], GROUPS)
    raw["encoder.levels"]["when"] = {"encoder": ["ple"]}  # a real encoder not searched now: fine
    assert SearchSpace.parse(raw, ["income"], GROUPS).names == ["encoder", "encoder.levels"]


def test_task_placeholder_gives_one_parameter_per_selected_task() -> None:
    space = SearchSpace.parse({"task.{task}.weight": "interval(0.1, 1)"}, ["a", "b"], GROUPS)
    assert space.names == ["task.a.weight", "task.b.weight"]


def test_conditional_parameters_appear_only_for_their_choices() -> None:
    """The architecture sweep as shipped: real Hydra composition and a real Optuna study."""
    raw = SweepSpec.from_node("architecture", _sweep_node("architecture")).params
    space = SearchSpace.parse(raw, ["income", "marital"], GROUPS)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    with hydra_context():
        for _ in range(24):
            trial = study.ask()
            composed, values = space.sample(trial, ["trainer.max_epochs=1"])
            encoder = values["encoder"]
            seen.add(encoder)
            assert trial.params.keys() == values.keys()
            assert ("encoder.n_experts" in values) == (encoder in ("omoe", "mmoe"))
            assert ("encoder.n_shared" in values) == (encoder in ("cgc", "ple"))
            assert ("encoder.levels" in values) == (encoder == "ple")
            assert "encoder.expert.hidden" in values  # every searched encoder has an expert
            for key, value in values.items():  # the composed config holds what was sampled
                actual = (
                    composed.choice(key) if key in GROUPS else OmegaConf.select(composed.cfg, key)
                )
                assert format_value(actual) == format_value(value), key
            study.tell(trial, 0.0)
    assert {"ple", "mmoe", "shared_bottom"} <= seen


def _sweep_node(name: str):
    with hydra_context():
        return compose_config([f"sweep={name}"]).cfg.sweep


def test_every_sweep_file_is_a_valid_spec() -> None:
    for path in (CONF_DIR / "sweep").glob("*.yaml"):
        spec = SweepSpec.from_node(path.stem, _sweep_node(path.stem))
        assert spec.params and spec.objectives and spec.n_trials >= 1


def test_unknown_settings_fail_with_the_closest_match() -> None:
    node = {"params": {"x": "choice(1, 2)"}, "objectives": ["val/mean/loss"], "n_trial": 3}
    with pytest.raises(ConfigError, match=r"no setting 'n_trial'.*Did you mean 'n_trials'"):
        SweepSpec.from_node("t", node)
    space = SearchSpace.parse({"optim.lr": "interval(0.1, 1)"}, ["income"], GROUPS)
    with pytest.raises(ConfigError, match=r"sweep.sampler: unknown sampler 'nsga'.*'nsga2'"):
        build_sampler({"name": "nsga"}, space, 2)
    with pytest.raises(ConfigError, match=r"has no parameter 'n_startup'.*n_startup_trials"):
        build_pruner({"name": "median", "n_startup": 2}, True)
    with pytest.raises(ConfigError, match="one objective"):
        build_sampler({"name": "cmaes"}, space, 2)
    with pytest.raises(ConfigError, match="finite set of values"):
        build_sampler({"name": "grid"}, space, 1)
    with pytest.raises(ConfigError, match="needs a single objective"):
        build_pruner({"name": "hyperband"}, False)


@pytest.mark.parametrize("name", ["tpe", "random", "grid", "nsga2", "cmaes"])
def test_every_sampler_builds(name: str) -> None:
    if name == "cmaes":
        pytest.importorskip("cmaes", reason="cmaes is an optional extra: pip install 'mtfw[cmaes]'")
    space = SearchSpace.parse({"embedding.dim": "choice(4, 8)"}, ["income"], GROUPS)
    assert isinstance(build_sampler({"name": name}, space, 1), optuna.samplers.BaseSampler)


@pytest.mark.parametrize("name", ["median", "successive_halving", "hyperband", "none"])
def test_every_pruner_builds(name: str) -> None:
    assert isinstance(build_pruner({"name": name}, True), optuna.pruners.BasePruner)


def test_samplers_and_pruners_are_registry_components(capsys: pytest.CaptureFixture) -> None:
    assert registry.names("sampler") == ["cmaes", "grid", "nsga2", "random", "tpe"]
    assert registry.names("pruner") == ["hyperband", "median", "none", "successive_halving"]
    with pytest.raises(ConfigError, match=r"sweep.sampler: sampler 'tpe' has no parameter "
                       r"'n_startup'.*Did you mean 'n_startup_trials'"):  # fmt: skip
        registry.check("sampler", {"name": "tpe", "n_startup": 3}, "sweep.sampler")
    registry.check("task", {"name": "ranking", "sampler": "popularity"})  # not a sweep sampler
    list_components(["sampler", "pruner"])
    listed = capsys.readouterr().out
    for text in ("sampler:", "tpe", "seed=0", "constant_liar=True", "pruner:", "n_warmup_steps=0"):
        assert text in listed, text
    assert "search_space" not in listed and "n_objectives" not in listed


def test_each_worker_samples_with_seed_plus_its_offset() -> None:
    space = SearchSpace.parse({"optim.lr": "interval(0.1, 1)"}, ["income"], GROUPS)

    def first_point(sampler: optuna.samplers.BaseSampler) -> float:
        study = optuna.create_study(sampler=sampler)
        return study.ask().suggest_float("optim.lr", 0.1, 1)

    offset = build_sampler({"name": "random", "seed": 3}, space, 1, seed_offset=2)
    assert first_point(offset) == first_point(optuna.samplers.RandomSampler(seed=5))
    assert first_point(build_sampler({"name": "tpe"}, space, 1)) == first_point(
        optuna.samplers.TPESampler(seed=0)
    )


def test_objectives_expand_per_task_and_take_directions_from_metrics() -> None:
    with hydra_context():
        cfg = compose_config([]).cfg
    from mtfw.experiment import build_tasks

    tasks = build_tasks(cfg)
    objectives = parse_objectives(["val/{task}/{metric}", {"n_parameters": "min"}], tasks, False)
    assert [(o.key, o.direction) for o in objectives] == [
        ("val/income/auc", "maximize"),
        ("val/marital/auc", "maximize"),
        ("n_parameters", "minimize"),
    ]
    assert parse_objectives("val/mean/loss", tasks, False)[0].direction == "minimize"
    with pytest.raises(ConfigError, match=r"test-split metric.*allow_test_objective"):
        parse_objectives(["test/income/auc"], tasks, False)
    assert parse_objectives(["test/income/auc"], tasks, True)[0].key == "test/income/auc"
    with pytest.raises(ConfigError, match="Did you mean 'val/income/auc'"):
        parse_objectives(["val/income/acu"], tasks, False)
    with pytest.raises(ConfigError, match="say whether to maximize or minimize best_epoch"):
        parse_objectives(["best_epoch"], tasks, False)
    with pytest.raises(ConfigError, match="Did you mean 'maximize'"):
        parse_objectives([{"val/income/auc": "maximise"}], tasks, False)


def test_param_paths_are_checked_against_every_searched_option() -> None:
    def check(raw: dict) -> None:
        space = SearchSpace.parse(raw, ["income", "marital"], GROUPS)
        with hydra_context():
            check_space(space, [], GROUPS)

    check({"encoder": "choice(mmoe, cgc)", "encoder.n_experts": {"values": "range(2, 5)",
           "when": "present"}})  # fmt: skip
    with pytest.raises(ConfigError, match=r"no config key 'encoder.n_expert'.*'n_experts'"):
        check({"encoder": "choice(mmoe, omoe)", "encoder.n_expert": "range(2, 5)"})
    with pytest.raises(ConfigError, match=r"only encoder mmoe \(not cgc\).*when: present"):
        check({"encoder": "choice(mmoe, cgc)", "encoder.n_experts": "range(2, 5)"})
    with pytest.raises(ConfigError, match=r"no config key 'optim.lrr'.*Did you mean 'lr'"):
        check({"optim.lrr": "interval(0.001, 0.1)"})
    with pytest.raises(ConfigError, match=r"unknown encoder 'mmo'.*Did you mean 'mmoe'"):
        check({"encoder": "choice(mmo, cgc)"})


def test_enqueued_trials_name_parameters_and_their_choices() -> None:
    space = SearchSpace.parse({"encoder.expert.hidden": "choice([32], [64])"}, ["a"], GROUPS)
    assert check_enqueue(space, [{"encoder.expert.hidden": [64]}]) == [
        {"encoder.expert.hidden": "[64]"}
    ]
    with pytest.raises(ConfigError, match=r"Did you mean .encoder\.expert\.hidden."):
        check_enqueue(space, [{"encoder.expert.hiden": [64]}])
    with pytest.raises(ConfigError, match="not one of its choices"):
        check_enqueue(space, [{"encoder.expert.hidden": [16]}])
