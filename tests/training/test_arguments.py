"""The `trl:` and `peft:` blocks and the batch split: checked before any model is loaded, one
line naming the key; harmlab's defaults land in the resolved config; TRL gets the values."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmlab import HarmlabError
from harmlab.config import config_to_yaml, load_config
from harmlab.training.arguments import (
    grpo_arguments,
    lora_config,
    resolve_run_config,
    sft_arguments,
)
from harmlab.training.common import launched_processes
from harmlab.training.config import GRPORunConfig, SFTRunConfig


def grpo(*overrides: str) -> GRPORunConfig:
    return resolve_run_config(load_config(GRPORunConfig, None, ["output_dir=out", *overrides]))


def sft(*overrides: str) -> SFTRunConfig:
    return resolve_run_config(load_config(SFTRunConfig, None, ["output_dir=out", *overrides]))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trl.bf61=true", "unknown key 'trl.bf61'; closest: bf16"),
        ("trl.lr_schedular_type=cosine", "closest: lr_scheduler_type"),
        ("trl.max_steps=5", "'trl.max_steps' is set by harmlab: use 'train.steps'"),
        ("trl.learning_rate=0.1", "use 'train.learning_rate'"),
        ("trl.num_generations=4", "use 'train.num_generations'"),
        ("trl.per_device_train_batch_size=4", "use 'train.prompts_per_step'"),
        ("trl.logging_steps=10", "'trl.logging_steps' cannot be set: the monitor writes one"),
        ("peft.lora_alfa=16", "unknown key 'peft.lora_alfa'; closest: lora_alpha"),
    ],
)
def test_bad_block_keys_are_one_line_errors_naming_the_key(override: str, message: str) -> None:
    with pytest.raises(HarmlabError) as error:
        grpo(override)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_sft_names_its_own_keys() -> None:
    with pytest.raises(
        HarmlabError, match="'trl.max_length' is set by harmlab: use 'train.max_length'"
    ):
        sft("trl.max_length=64")
    with pytest.raises(HarmlabError, match="use 'train.batch_size'"):
        sft("trl.per_device_train_batch_size=4")


def test_defaults_are_resolved_into_the_saved_config_and_a_block_changes_them() -> None:
    plain = grpo()
    assert plain.trl == {
        "bf16": False,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "constant",
        "log_completions": False,
        "report_to": "none",
    }
    assert plain.peft is None
    assert sft().trl["lr_scheduler_type"] == "cosine"
    changed = grpo("trl.lr_scheduler_type=cosine", "trl.warmup_steps=3", "peft.r=4")
    assert changed.trl["lr_scheduler_type"] == "cosine" and changed.trl["warmup_steps"] == 3
    assert changed.peft == {"task_type": "CAUSAL_LM", "r": 4}
    assert "lr_scheduler_type: cosine" in config_to_yaml(changed)
    assert resolve_run_config(changed) == changed  # resolving twice (a resume) changes nothing


def test_trl_arguments_carry_the_typed_fields_and_the_block(tmp_path: Path) -> None:
    config = grpo(
        f"output_dir={tmp_path}",
        "train.prompts_per_step=4",
        "train.num_generations=4",
        "trl.gradient_accumulation_steps=2",
        "trl.lr_scheduler_type=cosine",
        "trl.warmup_steps=2",
    )
    args = grpo_arguments(config, [1.0], processes=1)
    assert args.per_device_train_batch_size == 8  # 16 completions over 2 accumulation steps
    assert args.generation_batch_size == 16 and args.steps_per_generation == 2
    assert args.lr_scheduler_type == "cosine" and args.warmup_steps == 2
    assert args.bf16 is False and args.logging_steps == 1 and args.max_steps == 40
    sft_args = sft_arguments(sft(f"output_dir={tmp_path}", "train.batch_size=8"), processes=1)
    assert sft_args.per_device_train_batch_size == 8 and sft_args.lr_scheduler_type == "cosine"


@pytest.mark.parametrize(
    ("overrides", "processes", "message"),
    [
        (["train.prompts_per_step=3", "train.num_generations=2"], 4, "must split evenly over 4"),
        (["trl.gradient_accumulation_steps=5"], 1, "gradient_accumulation_steps (5)"),
        (["trl.gradient_accumulation_steps=two"], 1, "must be an integer >= 1"),
    ],
)
def test_a_batch_that_does_not_split_is_refused(
    overrides: list[str], processes: int, message: str
) -> None:
    with pytest.raises(HarmlabError) as error:
        grpo_arguments(grpo(*overrides), [1.0], processes=processes)
    assert message in str(error.value)


def test_trl_own_checks_become_one_line_errors(tmp_path: Path) -> None:
    config = grpo(f"output_dir={tmp_path}", "trl.generation_batch_size=12")
    with pytest.raises(HarmlabError, match=r"^trl \(GRPOConfig\): generation_batch_size \(12\)"):
        grpo_arguments(config, [1.0], processes=1)


def test_a_single_completion_per_prompt_is_refused() -> None:
    try:
        config = grpo("train.num_generations=1")
    except HarmlabError as error:  # a declared range on the field catches it first
        assert "train.num_generations" in str(error)
        return
    with pytest.raises(HarmlabError, match="'train.num_generations' is 1; GRPO needs >= 2"):
        grpo_arguments(config, [1.0], processes=1)


def test_use_vllm_without_vllm_is_refused_before_any_work() -> None:
    pytest.importorskip("trl")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(HarmlabError, match="'trl.use_vllm' needs vLLM"):
            grpo("trl.use_vllm=true")
    else:
        pytest.skip("vLLM is installed")


def test_lora_config_from_the_block() -> None:
    config = lora_config(grpo("peft.r=4", "peft.target_modules=[q_proj, v_proj]").peft)
    assert config.r == 4 and set(config.target_modules) == {"q_proj", "v_proj"}
    assert str(config.task_type) == "CAUSAL_LM"
    assert lora_config(None) is None
    with pytest.raises(HarmlabError, match="^peft: "):
        lora_config({"r": 4, "lora_bias": True, "use_dora": True})


def test_cpu_launch_that_started_one_process_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCELERATE_USE_CPU", "True")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    for name in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(HarmlabError, match="--multi_gpu --num_processes N"):
        launched_processes()
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launched_processes() == 2


def test_missing_sft_run_says_how_to_train_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harmlab.training.common import check_start_model

    monkeypatch.chdir(tmp_path)
    with pytest.raises(HarmlabError) as error:
        check_start_model("runs/sft-cold-start")
    assert str(error.value) == (
        "model 'runs/sft-cold-start' does not exist: train it first with "
        "harmlab train sft --config sft-cold-start"
    )
    with pytest.raises(HarmlabError, match="train it first with harmlab train grpo --config"):
        check_start_model("runs/grpo-from-base")
    check_start_model("tiny")  # a registered name is not a run folder
