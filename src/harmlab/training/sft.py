"""The cold start: supervised fine-tuning through TRL's `SFTTrainer` on a curated SafetyWorld pool.

    harmlab train sft --config configs/sft-cold-start.yaml

DeepSeek-R1 (arXiv 2501.12948 section 2.3.1) fine-tunes the base model on a few thousand
readable long-CoT examples before RL. Here the pool (`harmlab.training.data.sft_dataset`) is
refusals for harmful requests of the training categories, concise same-language reasoning for
benign problems and plain help for borderline prompts; loss is on the response tokens only.
The gold monitor runs as in GRPO; its proxy reward is R1's format + accuracy rewards.
The `trl:` and `peft:` blocks reach `trl.SFTConfig` and `peft.LoraConfig`
(`harmlab.training.arguments`).
"""

from __future__ import annotations

from typing import Any

from trl import SFTTrainer

from harmlab.models.embedded import for_world
from harmlab.rewards.rules import accuracy_reward, format_reward
from harmlab.training.arguments import lora_config, resolve_run_config, sft_arguments
from harmlab.training.common import (
    RecordHook,
    check_run_folder,
    launched_processes,
    load_policy,
    prepare_monitor,
    resume_trained,
    run_training,
)
from harmlab.training.compute import ComputeMeter
from harmlab.training.config import SFTRunConfig
from harmlab.training.data import EpochOrderedData, data_world, sft_dataset

MONITOR_REWARDS = ([format_reward, accuracy_reward], [0.5, 1.0])
"""The proxy reward the SFT monitor reports (R1's two rule rewards)."""


class MeteredSFTTrainer(EpochOrderedData, SFTTrainer):
    """TRL's SFTTrainer with the compute meter around each optimizer step, and a data order that
    survives `--resume` (`EpochOrderedData`)."""

    meter: ComputeMeter

    def training_step(self, model: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        with self.meter.step():
            loss = super().training_step(model, inputs, *args, **kwargs)
        tokens = inputs["attention_mask"].sum().reshape(1)
        self.meter.tokens_trained += int(self.accelerator.gather(tokens).sum())  # all processes
        return loss


def train_sft(
    config: SFTRunConfig, resume: bool = False, on_record: RecordHook | None = None
) -> dict[str, Any]:
    """Run the cold-start SFT; returns the run summary (also in `<run>/summary.json`).

    Everything is checked (`trl:`, `peft:`, batch split, the run folder) before any work, and
    the model, data and trainer are built before the run folder is written.
    """
    config = resolve_run_config(config)
    args = sft_arguments(config, launched_processes())
    lora = lora_config(config.peft)
    check_run_folder(config, resume)
    trained = resume_trained(config, resume)
    if trained is not None:
        return trained
    dataset = sft_dataset(config.data)
    model, tokenizer = load_policy(for_world(config.model, config.data.world_seed), config.threads)
    inputs = (data_world(config.data), MONITOR_REWARDS)
    monitor, meter = prepare_monitor(config, model, inputs, on_record)
    trainer = MeteredSFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[monitor] if monitor else None,
    )
    return run_training(trainer, config, tokenizer, meter, resume)
