"""The typed YAML config loader: unknown keys, types, overrides, the resolved config."""

from __future__ import annotations

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
