"""TRL and PEFT arguments of a run: harmlab's typed fields, the `trl:` and `peft:` blocks, checks.

    harmlab train grpo --config grpo-after-sft trl.bf16=true trl.gradient_accumulation_steps=2
    harmlab train sft --config sft-cold-start peft.r=8 peft.target_modules=all-linear

`trl.SFTConfig` / `trl.GRPOConfig` / `trl.DistillationConfig` (on-policy distillation) are
built from three layers, later ones winning: harmlab's
defaults for what it does not type (`TRL_DEFAULTS`: float32, no gradient accumulation, GRPO's
constant learning rate, no logging integration), the run config's `trl:` block, and harmlab's
own typed fields (steps, learning rate, batch, ...), which the `trl:` block may not repeat: a
value has one place. `resolve_run_config` merges the defaults into the blocks, so the run's
config.yaml shows what was used. Everything is checked before any model is loaded: an unknown
key names the closest valid ones, a typed key names the harmlab key to use, and the batch must
split over processes and accumulation micro-steps.

Batch sizes are per optimizer step over all processes (`train.batch_size` sequences,
`train.prompts_per_step` × `train.num_generations` completions), so a config means the same
optimisation on one process or eight; TRL's per-device size is derived from them.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
from pathlib import Path
from typing import Any, TypeVar

import torch

from harmlab import HarmlabError
from harmlab.training.config import (
    GRPORunConfig,
    OnPolicyRunConfig,
    SFTRunConfig,
    SFTTrainConfig,
    TrainingRunConfig,
)

Run = TypeVar("Run", SFTRunConfig, GRPORunConfig, OnPolicyRunConfig)

TRL_DEFAULTS: dict[str, dict[str, Any]] = {
    "sft": {
        "bf16": False,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "cosine",
        "packing": False,
        "report_to": "none",
    },
    "grpo": {
        "bf16": False,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "constant",
        "log_completions": False,
        "report_to": "none",
    },
    "distill": {
        "bf16": False,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "cosine",
        "report_to": "none",
    },
}
"""harmlab's choices for TRL arguments it does not type; a `trl:` block may change them."""

PEFT_DEFAULTS: dict[str, Any] = {"task_type": "CAUSAL_LM"}
"""LoRA arguments a `peft:` block gets unless it says otherwise."""

_OWNED_BY_BOTH = {
    "output_dir": "output_dir",
    "max_steps": "train.steps",
    "num_train_epochs": "train.steps",
    "seed": "seed",
    "data_seed": "seed",
    "learning_rate": "train.learning_rate",
    "save_steps": "train.save_every",
    "activation_checkpointing": "train.activation_checkpointing",
    "gradient_checkpointing": "train.activation_checkpointing",
}
OWNED: dict[str, dict[str, str]] = {
    "sft": {
        **_OWNED_BY_BOTH,
        "per_device_train_batch_size": "train.batch_size",
        "max_length": "train.max_length",
        "completion_only_loss": "train.completion_only_loss",
        "warmup_steps": "train.warmup_ratio",
    },
    "grpo": {
        **_OWNED_BY_BOTH,
        "per_device_train_batch_size": "train.prompts_per_step",
        "reward_weights": "rewards.N.weight",
        **{
            name: f"train.{name}"
            for name in (
                "num_generations",
                "beta",
                "loss_type",
                "epsilon",
                "epsilon_high",
                "temperature",
                "max_completion_length",
                "scale_rewards",
            )
        },
    },
    "distill": {
        **_OWNED_BY_BOTH,
        "per_device_train_batch_size": "train.batch_size",
        "warmup_steps": "train.warmup_ratio",
        "beta": "onpolicy.beta",
        "temperature": "onpolicy.temperature",
        "max_completion_length": "onpolicy.max_new_tokens",
    },
}
"""TRL arguments set from a harmlab field: the `trl:` key -> the harmlab key to use instead."""

FIXED = {
    "logging_steps": "the monitor writes one metrics record per optimizer step",
    "logging_strategy": "the monitor writes one metrics record per optimizer step",
    "save_strategy": "checkpoints every train.save_every steps are what --resume restarts from",
}
"""TRL arguments harmlab's run directory depends on: never set from a config."""


def kind_of(config: TrainingRunConfig) -> str:
    """'sft', 'grpo' or 'distill' (on-policy distillation)."""
    if isinstance(config, OnPolicyRunConfig):
        return "distill"
    return "sft" if isinstance(config, SFTRunConfig) else "grpo"


def trl_class(kind: str) -> type:
    """`trl.SFTConfig`, `trl.GRPOConfig` or `trl.DistillationConfig` (imported here: TRL is slow
    to import)."""
    from trl import DistillationConfig, GRPOConfig, SFTConfig

    classes: dict[str, type] = {"sft": SFTConfig, "grpo": GRPOConfig}
    return classes.get(kind, DistillationConfig)


def init_fields(cls: type) -> list[str]:
    """The keyword arguments dataclass `cls` accepts."""
    return [f.name for f in dataclasses.fields(cls) if f.init]


def unknown_key(key: str, where: str, valid: list[str]) -> HarmlabError:
    """'unknown key ...; closest: ...' with the nearest valid names (difflib)."""
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f"closest: {', '.join(close)}" if close else f"valid keys: {', '.join(sorted(valid))}"
    return HarmlabError(f"unknown key '{where}.{key}'; {hint}")


def resolve_trl_block(block: dict[str, Any], kind: str) -> dict[str, Any]:
    """The `trl:` block checked against TRL's config class, merged over harmlab's defaults."""
    cls = trl_class(kind)
    valid = init_fields(cls)
    for key in block:
        if key in OWNED[kind]:
            raise HarmlabError(f"'trl.{key}' is set by harmlab: use '{OWNED[kind][key]}'")
        if key in FIXED:
            raise HarmlabError(f"'trl.{key}' cannot be set: {FIXED[key]}")
        if key not in valid:
            raise unknown_key(key, "trl", valid)
    if block.get("use_vllm") and importlib.util.find_spec("vllm") is None:
        raise HarmlabError("'trl.use_vllm' needs vLLM, which is not installed (pip install vllm)")
    return {**TRL_DEFAULTS[kind], **block}


def resolve_peft_block(block: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `peft:` block checked against `peft.LoraConfig`, with a causal-LM task by default."""
    if block is None:
        return None
    from peft import LoraConfig

    valid = init_fields(LoraConfig)
    for key in block:
        if key not in valid:
            raise unknown_key(key, "peft", valid)
    return {**PEFT_DEFAULTS, **block}


def resolve_run_config(config: Run) -> Run:
    """The config as the run uses and saves it: `trl:`/`peft:` checked and defaults merged."""
    return dataclasses.replace(
        config,
        trl=resolve_trl_block(config.trl, kind_of(config)),
        peft=resolve_peft_block(config.peft),
    )


def lora_config(block: dict[str, Any] | None) -> Any:
    """`peft.LoraConfig` of a resolved `peft:` block (None: no adapters, every weight trains)."""
    if block is None:
        return None
    from peft import LoraConfig

    try:
        return LoraConfig(**block)
    except (TypeError, ValueError) as error:
        raise HarmlabError(f"peft: {one_line(error)}") from None


def accumulation_steps(trl: dict[str, Any]) -> int:
    """`trl.gradient_accumulation_steps` (1 unless the block says otherwise), checked."""
    value = trl.get("gradient_accumulation_steps", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HarmlabError(
            f"'trl.gradient_accumulation_steps' is {value!r}; it must be an integer >= 1"
        )
    return value


def per_device(total: int, processes: int, accumulation: int, what: str) -> int:
    """`total` items per optimizer step split over processes and accumulation micro-steps.

    >>> per_device(64, 2, 2, "completions")
    16
    """
    parts = processes * accumulation
    if total % parts:
        raise HarmlabError(
            f"{what} ({total} per optimizer step) must split evenly over {processes} process(es) "
            f"× trl.gradient_accumulation_steps ({accumulation})"
        )
    return total // parts


def common_arguments(config: TrainingRunConfig) -> dict[str, Any]:
    """TrainingArguments shared by TRL's config classes: the typed fields, then `trl:`."""
    train = config.train
    return {
        "use_cpu": not torch.cuda.is_available(),
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        **config.trl,
        "output_dir": str(Path(config.output_dir).expanduser()),
        "max_steps": train.steps,
        "seed": config.seed,
        "data_seed": config.seed,
        "learning_rate": train.learning_rate,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": max(1, train.save_every),
        "activation_checkpointing": train.activation_checkpointing,
    }


def batch_arguments(config: SFTRunConfig | OnPolicyRunConfig, processes: int) -> dict[str, Any]:
    """The per-device batch and the warmup of a run whose `train:` is an `SFTTrainConfig` (SFT,
    on-policy distillation): `train.batch_size` sequences a step over every process."""
    train: SFTTrainConfig = config.train
    accumulation = accumulation_steps(config.trl)
    return {
        "per_device_train_batch_size": per_device(
            train.batch_size, processes, accumulation, "train.batch_size"
        ),
        "warmup_steps": max(1, round(train.warmup_ratio * train.steps)),
    }


def sft_arguments(config: SFTRunConfig, processes: int) -> Any:
    """`trl.SFTConfig` of a resolved SFT run config."""
    train: SFTTrainConfig = config.train
    return build_trl_config(
        "sft",
        processes,
        {
            **common_arguments(config),
            **batch_arguments(config, processes),
            "max_length": train.max_length,
            "completion_only_loss": train.completion_only_loss,
        },
    )


def grpo_arguments(config: GRPORunConfig, weights: list[float], processes: int) -> Any:
    """`trl.GRPOConfig` of a resolved GRPO run config (TRL's batch sizes count completions)."""
    train = config.train
    if train.num_generations < 2:
        raise HarmlabError(
            f"'train.num_generations' is {train.num_generations}; GRPO needs >= 2 completions "
            "per prompt (their rewards are normalised within the group)"
        )
    accumulation = accumulation_steps(config.trl)
    completions = per_device(
        train.completions_per_step,
        processes,
        accumulation,
        "train.prompts_per_step × train.num_generations completions",
    )
    return build_trl_config(
        "grpo",
        processes,
        {
            **common_arguments(config),
            "per_device_train_batch_size": completions,
            "num_generations": train.num_generations,
            "beta": train.beta,
            "loss_type": train.loss_type,
            "epsilon": train.epsilon,
            "epsilon_high": train.epsilon_high,
            "temperature": train.temperature,
            "max_completion_length": train.max_completion_length,
            "scale_rewards": train.scale_rewards,
            "reward_weights": weights,
        },
    )


def onpolicy_arguments(config: OnPolicyRunConfig, processes: int) -> Any:
    """`trl.DistillationConfig` of a resolved on-policy distillation run (batches count prompts:
    the student samples one completion of each)."""
    return build_trl_config(
        "distill",
        processes,
        {
            **common_arguments(config),
            **batch_arguments(config, processes),
            "beta": config.onpolicy.beta,
            "temperature": config.onpolicy.temperature,
            "max_completion_length": config.onpolicy.max_new_tokens,
        },
    )


def build_trl_config(kind: str, processes: int, arguments: dict[str, Any]) -> Any:
    """TRL's config class from `arguments`; its own checks become one-line errors."""
    cls = trl_class(kind)
    try:
        built = cls(**arguments)
    except (TypeError, ValueError) as error:
        raise HarmlabError(f"trl ({cls.__name__}): {one_line(error)}") from None
    if built.world_size != processes:
        raise HarmlabError(
            f"launched as {processes} processes but training runs on {built.world_size}: "
            "on CPU launch with accelerate launch --multi_gpu --num_processes N (gloo)"
        )
    return built


def one_line(error: Exception) -> str:
    """An exception's message on one line."""
    return " ".join(str(error).split())
