"""The component registry (mtfw/registry.py): lookups, signature checks and entry points."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.models.encoder import Encoder
from mtfw.models.mmoe import MMoE

PLUGIN_MODULE = "mtfw_test_plugin_components"


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A copy of the (fully loaded) registry; the original comes back after the test."""
    registry.load_components()
    copy = {kind: dict(entries) for kind, entries in registry._REGISTRY.items()}
    monkeypatch.setattr(registry, "_REGISTRY", copy)
    return copy


class Counting(Encoder):
    """A test encoder that counts its constructions.

    The rest of the docstring is not part of the one-line description."""

    constructed = 0

    def __init__(self, in_dim: int, task_names: list[str], depth: int, width: int = 4):
        super().__init__(in_dim, task_names)
        type(self).constructed += 1
        self.depth, self.width = depth, width


def test_unknown_kind_lists_kinds_and_closest_match() -> None:
    with pytest.raises(ConfigError) as err:
        registry.names("encodr")
    message = str(err.value)
    for kind in registry.KINDS:
        assert kind in message
    assert "Did you mean 'encoder'" in message


def test_unknown_name_lists_choices_and_closest_match() -> None:
    with pytest.raises(ConfigError) as err:
        registry.get("encoder", "mmoee")
    message = str(err.value)
    for name in registry.names("encoder"):
        assert name in message
    assert "Did you mean 'mmoe'" in message


def test_unknown_name_far_from_everything_has_no_suggestion() -> None:
    with pytest.raises(ConfigError) as err:
        registry.build("encoder", {"name": "zzzzzzzz"}, in_dim=4, task_names=["a"], layout=None)
    assert "Did you mean" not in str(err.value)
    assert "mmoe" in str(err.value)


def test_misspelt_constructor_key_names_the_right_one() -> None:
    with pytest.raises(ConfigError) as err:
        registry.build(
            "encoder",
            {"name": "mmoe", "n_expert": 4},
            in_dim=10,
            task_names=["a", "b"],
            layout=None,
        )
    message = str(err.value)
    assert "'n_expert'" in message
    assert "Did you mean 'n_experts'" in message
    # The valid parameters are listed, the runtime ones are not config parameters.
    assert "expert" in message.split("Its parameters:")[1]
    assert "in_dim" not in message


def test_misspelt_key_in_omegaconf_node() -> None:
    node = OmegaConf.create({"name": "shared_bottom", "expert": {"name": "mlp", "hiden": [8]}})
    with pytest.raises(ConfigError, match="Did you mean 'hidden'") as err:
        registry.check("encoder", node)  # nested component nodes are checked too, before building
    assert "encoder.expert" in str(err.value)
    with pytest.raises(ConfigError, match="unknown expert 'mlpp'"):
        registry.check("encoder", {"name": "mmoe", "expert": "mlpp"})


def test_missing_name_is_reported() -> None:
    with pytest.raises(ConfigError, match="missing 'name:'"):
        registry.check("encoder", {"n_experts": 3})


def test_missing_required_parameter_is_reported(isolated_registry: dict) -> None:
    registry.register("encoder", "counting")(Counting)
    with pytest.raises(ConfigError) as err:
        registry.check("encoder", {"name": "counting", "width": 3})
    assert "needs depth" in str(err.value)
    # A real component: a task needs its label column.
    with pytest.raises(ConfigError, match="needs label"):
        registry.check("task", {"name": "binary"})


def test_check_does_not_construct(isolated_registry: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Counting, "constructed", 0)
    registry.register("encoder", "counting")(Counting)
    node = {"name": "counting", "depth": 2}
    assert registry.check("encoder", node) == {"depth": 2}
    assert Counting.constructed == 0
    assert node == {"name": "counting", "depth": 2}  # the caller's node is not consumed
    built = registry.build("encoder", node, in_dim=5, task_names=["a", "b"], layout=None)
    assert Counting.constructed == 1
    assert (built.in_dim, built.task_names, built.depth, built.width) == (5, ["a", "b"], 2, 4)


def test_build_passes_config_and_runtime_arguments() -> None:
    enc = registry.build(
        "encoder",
        {"name": "mmoe", "n_experts": 3, "expert": {"name": "mlp", "hidden": [6]}},
        in_dim=7,
        task_names=["a"],
        layout=None,
    )
    assert isinstance(enc, MMoE)
    assert (enc.n_experts, enc.out_dim, enc.in_dim, enc.task_names) == (3, 6, 7, ["a"])


def test_build_rejects_wrong_runtime_arguments() -> None:
    with pytest.raises(TypeError, match="task_names"):
        registry.build("encoder", {"name": "mmoe"}, in_dim=7)


def test_string_node_is_a_name() -> None:
    enc = registry.build("encoder", "shared_bottom", in_dim=4, task_names=["a"], layout=None)
    assert type(enc).registry_name == "shared_bottom"


def test_registering_a_name_twice_for_another_class_raises(isolated_registry: dict) -> None:
    registry.register("encoder", "counting")(Counting)
    registry.register("encoder", "counting")(Counting)  # the same class again is harmless

    class Other(Encoder):
        pass

    with pytest.raises(ConfigError, match="registered twice"):
        registry.register("encoder", "counting")(Other)
    assert registry.get("encoder", "counting") is Counting
    with pytest.raises(ConfigError, match="registered twice"):
        registry.register("encoder", "mmoe")(Other)
    assert registry.get("encoder", "mmoe") is MMoE


def test_register_unknown_kind_raises() -> None:
    with pytest.raises(ConfigError, match="unknown component kind"):
        registry.register("encodr", "x")


def test_isolated_registry_is_restored() -> None:
    # Runs after the tests above that registered "counting" into a monkeypatched copy.
    assert "counting" not in registry.names("encoder")


def test_describe_returns_doc_line_and_params(isolated_registry: dict) -> None:
    registry.register("encoder", "counting")(Counting)
    doc, params = registry.describe("encoder", "counting")
    assert doc == "A test encoder that counts its constructions."
    assert params == "depth, width=4"


def test_describe_real_component() -> None:
    doc, params = registry.describe("encoder", "mmoe")
    assert doc == MMoE.__doc__.strip().splitlines()[0]
    assert "n_experts=8" in params
    assert "in_dim" not in params and "task_names" not in params


def test_entry_point_component_becomes_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_registry: dict
) -> None:
    (tmp_path / f"{PLUGIN_MODULE}.py").write_text(
        textwrap.dedent(
            '''
            from mtfw.models.encoder import Encoder
            from mtfw.registry import register


            @register("encoder", "plugin_encoder")
            class PluginEncoder(Encoder):
                """An encoder from a third-party package."""

                def __init__(self, in_dim, task_names, scale: float = 2.0):
                    super().__init__(in_dim, task_names)
                    self.scale, self.out_dim = scale, in_dim

                def forward(self, x):
                    return {t: self.scale * x for t in self.task_names}
            '''
        )
    )
    dist = tmp_path / "mtfw_test_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mtfw-test-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[mtfw.components]\nplugin = {PLUGIN_MODULE}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_loaded", False)
    try:
        assert "plugin_encoder" in registry.names("encoder")
        assert registry.describe("encoder", "plugin_encoder") == (
            "An encoder from a third-party package.",
            "scale=2.0",
        )
        enc = registry.build(
            "encoder",
            {"name": "plugin_encoder", "scale": 3.0},
            in_dim=2,
            task_names=["a"],
            layout=None,
        )
        assert enc.scale == 3.0
    finally:
        sys.modules.pop(PLUGIN_MODULE, None)


def test_entry_point_component_is_gone_after_the_test() -> None:
    assert "plugin_encoder" not in registry.names("encoder")


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"name": "mmoe", "n_experts": 0}, "encoder.n_experts=0 is out of range: allowed [1, inf)"),
        ({"name": "ple", "levels": -1}, "encoder.levels=-1 is out of range: allowed [1, inf)"),
        ({"name": "cross_stitch", "hidden": [8, -1]}, "encoder.hidden=-1 is out of range"),
        (
            {"name": "cross_stitch", "self_weight": 1.5},
            "encoder.self_weight=1.5 is out of range: allowed [0, 1]",
        ),
        ({"name": "aitm", "calibrator": -1}, "encoder.calibrator=-1 is out of range: allowed [0"),
        (
            {"name": "mmoe", "expert": {"name": "mlp", "dropout": 1}},
            "encoder.expert.dropout=1 is out of range: allowed [0, 1)",
        ),
        (
            {"name": "mmoe", "expert": {"name": "cnn", "kernel_size": 0}},
            "encoder.expert.kernel_size=0 is out of range",
        ),
        (
            {
                "name": "esmm",
                "shared": {"name": "shared_bottom", "expert": {"name": "mlp", "hidden": [-1]}},
            },
            "encoder.shared.expert.hidden=-1 is out of range",
        ),
    ],
)
def test_declared_ranges_are_checked_without_building(node: dict, expected: str) -> None:
    """``n_experts: Count`` and the like: a range beside the type, refused by ``check`` (before
    any data is loaded), naming the key, the value and what is allowed."""
    with pytest.raises(ConfigError) as err:
        registry.check("encoder", node, where="encoder")
    assert expected in str(err.value)


def test_values_inside_the_declared_ranges_pass() -> None:
    expert = {"name": "mlp", "dropout": 0.0}
    registry.check("encoder", {"name": "cross_stitch", "self_weight": 1.0, "hidden": []})
    registry.check("encoder", {"name": "mmoe", "n_experts": 1, "expert": expert})
    registry.check("encoder", {"name": "aitm", "calibrator": 0})
