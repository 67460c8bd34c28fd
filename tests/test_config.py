"""The typed YAML config loader: unknown keys, types, overrides, the resolved config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harmlab.config import ConfigError, config_to_yaml, load_config, parse_override
from harmlab.training.config import GRPORunConfig, SFTRunConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("name", ["sft-cold-start", "grpo-from-base", "grpo-after-sft"])
def test_shipped_configs_load(name: str) -> None:
    cls = SFTRunConfig if name.startswith("sft") else GRPORunConfig
    config = load_config(cls, CONFIGS / f"{name}.yaml")
    assert config.output_dir == f"runs/{name}"


def test_unknown_key_names_it_and_the_valid_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  stpes: 3\n")
    with pytest.raises(ConfigError) as error:
        load_config(GRPORunConfig, path)
    message = str(error.value)
    assert "unknown key 'train.stpes'" in message
    assert "steps, prompts_per_step" in message and "\n" not in message


def test_a_bad_override_is_named_as_one(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\n")
    with pytest.raises(ConfigError, match="c.yaml with overrides train.stpes=3: unknown key"):
        load_config(GRPORunConfig, path, ["train.stpes=3"])


@pytest.mark.parametrize(
    ("override", "field", "value"),
    [
        ("train.beta=0.05", "beta", 0.05),
        ("train.steps=7", "steps", 7),
        ("train.learning_rate=1e-3", "learning_rate", 1e-3),  # YAML reads 1e-3 as a string
        ("train.loss_type=grpo", "loss_type", "grpo"),
    ],
)
def test_overrides_are_coerced_to_the_field_type(override: str, field: str, value: object) -> None:
    config = load_config(GRPORunConfig, None, [override])
    assert getattr(config.train, field) == value


def test_override_reaches_list_items_and_nested_params() -> None:
    config = load_config(
        GRPORunConfig, CONFIGS / "grpo-from-base.yaml", ["rewards.2.params.span=answer"]
    )
    assert config.rewards[2].name == "keyword_blocklist"
    assert config.rewards[2].params == {"span": "answer"}


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("train.steps=many", "'train.steps' must be an integer"),
        ("train.loss_type=ppo", "must be one of"),
        ("rewards.9.weight=1", "not an index"),
        ("novalue", "key=value"),
    ],
)
def test_bad_overrides_are_one_line_errors(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_config(GRPORunConfig, CONFIGS / "grpo-from-base.yaml", [override])


def test_resolved_config_round_trips_through_yaml(tmp_path: Path) -> None:
    config = load_config(GRPORunConfig, CONFIGS / "grpo-after-sft.yaml", ["seed=3"])
    path = tmp_path / "resolved.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(GRPORunConfig, path) == config


def test_parse_override_reads_yaml_values() -> None:
    assert parse_override("prompts.files=[a.jsonl, b.jsonl]") == (
        "prompts.files",
        ["a.jsonl", "b.jsonl"],
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.steps=0", "'train.steps' is 0; it must be >= 1"),
        ("train.steps=-3", "'train.steps' is -3; it must be >= 1"),
        ("train.learning_rate=-1e-3", "'train.learning_rate' is -0.001; it must be > 0"),
        ("train.learning_rate=nan", "'train.learning_rate' must be a finite number"),
        ("train.num_generations=1", "'train.num_generations' is 1; it must be >= 2"),
        ("train.num_generations=0", "'train.num_generations' is 0; it must be >= 2"),
        ("train.temperature=0", "'train.temperature' is 0.0; it must be > 0"),
        ("train.max_completion_length=0", "'train.max_completion_length' is 0; it must be >= 1"),
        ("train.beta=-1", "'train.beta' is -1.0; it must be >= 0"),
        ("train.epsilon=-0.5", "'train.epsilon' is -0.5; it must be in (0, 1]"),
        ("rewards.0.weight=.inf", "'rewards.0.weight' must be a finite number"),
        ("prompts.mix.harmful=-0.5", "'prompts.mix' is -0.5; it must be >= 0"),
        ("threads=-1", "'threads' is -1; it must be >= 1"),
    ],
)
def test_values_out_of_range_name_the_key_and_the_range(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(GRPORunConfig, CONFIGS / "grpo-from-base.yaml", [override])
    assert message in str(error.value) and f"with overrides {override}" in str(error.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.batch_size=0", "'train.batch_size' is 0; it must be >= 1"),
        ("train.warmup_ratio=5", "'train.warmup_ratio' is 5.0; it must be in [0, 1]"),
    ],
)
def test_sft_values_out_of_range(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(SFTRunConfig, CONFIGS / "sft-cold-start.yaml", [override])


def test_a_bad_value_in_the_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\ntrain:\n  beta: 0.1\n  steps: 0\nrewards:\n  - {name: format}\n")
    with pytest.raises(ConfigError) as error:
        load_config(GRPORunConfig, path)
    assert str(error.value) == f"{path}:line 4: 'train.steps' is 0; it must be >= 1"
    path.write_text("rewards:\n  - name: format\n    weight: .nan\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}:line 3: 'rewards.0.weight'"):
        load_config(GRPORunConfig, path)
    path.write_text("train:\n  stpes: 3\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:line 2: unknown key 'train\.stpes'"):
        load_config(GRPORunConfig, path)


def test_an_override_replaces_the_line_of_the_value_it_sets(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  steps: 5\n")
    with pytest.raises(ConfigError) as error:
        load_config(GRPORunConfig, path, ["train.steps=0"])
    assert str(error.value).startswith(f"{path} with overrides train.steps=0: 'train.steps'")


def test_a_repeated_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\ntrain:\n  steps: 5\n  beta: 0.1\n  steps: 7\n")
    with pytest.raises(ConfigError) as error:
        load_config(GRPORunConfig, path)
    assert str(error.value) == (
        f"{path}:line 5: key 'steps' is repeated (first at line 3); a key may appear once per "
        "mapping"
    )
    with pytest.raises(ConfigError, match="is repeated"):
        load_config(GRPORunConfig, None, ["train={steps: 1, steps: 2}"])


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = "train:\n  <<: {steps: 5, beta: 0.1}\n  steps: 9\n"
    path.write_text(text)
    assert load_config(GRPORunConfig, path).train.steps == 9


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"seed: 1\ntrain:\n  steps: \xff\n", "c.yaml:line 3: not UTF-8 text"),
        (b"train: [unclosed\n", "c.yaml:line 2: not valid YAML"),
        (b"- a\n- b\n", "the top level must be a mapping of keys, not list"),
        (b"train: 3\n", "'train' must be a mapping, not int"),
        (b"[" * 1200 + b"]" * 1200, "c.yaml: nested too deeply"),
    ],
)
def test_unreadable_config_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as error:
        load_config(GRPORunConfig, path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    from harmlab.experiments.spec import ExperimentConfig

    path = tmp_path / "e.yaml"
    path.write_text("id: E9\ntitle: t\narms: [{name: base}]\n")
    with pytest.raises(ConfigError, match=r"missing key 'question' \(it has no default\)"):
        load_config(ExperimentConfig, path)
