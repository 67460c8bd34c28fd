"""The cold start: supervised fine-tuning through TRL's `SFTTrainer` on a curated SafetyWorld pool.

    harmlab train sft --config configs/sft-cold-start.yaml

DeepSeek-R1 (arXiv 2501.12948 section 2.3.1) fine-tunes the base model on a few thousand
readable long-CoT examples before RL. Here the pool (`harmlab.training.data.sft_dataset`) is
refusals for harmful requests of the training categories, concise same-language reasoning for
benign problems and plain help for borderline prompts; loss is on the response tokens only.
The gold monitor runs as in GRPO; its proxy reward is R1's format + accuracy rewards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trl import SFTConfig, SFTTrainer

from harmlab.rewards.rules import accuracy_reward, format_reward
from harmlab.training.common import (
    RecordHook,
    build_monitor,
    load_policy,
    train_and_finish,
    trainer_arguments,
)
from harmlab.training.compute import ComputeMeter
from harmlab.training.config import SFTRunConfig
from harmlab.training.data import sft_dataset
from harmlab.training.rundir import RunDir

MONITOR_REWARDS = ([format_reward, accuracy_reward], [0.5, 1.0])
"""The proxy reward the SFT monitor reports (R1's two rule rewards)."""


class MeteredSFTTrainer(SFTTrainer):
    """TRL's SFTTrainer with the compute meter around each optimizer step."""

    meter: ComputeMeter

    def training_step(self, model: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        with self.meter.step():
            loss = super().training_step(model, inputs, *args, **kwargs)
        self.meter.tokens_trained += int(inputs["attention_mask"].sum())
        return loss


def sft_arguments(config: SFTRunConfig, run: RunDir) -> SFTConfig:
    train = config.train
    return SFTConfig(
        **trainer_arguments(run, config.seed, train),
        per_device_train_batch_size=train.batch_size,
        learning_rate=train.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, round(train.warmup_ratio * train.steps)),
        max_length=train.max_length,
        completion_only_loss=train.completion_only_loss,
        packing=False,
    )


def train_sft(
    config: SFTRunConfig, resume: bool = False, on_record: RecordHook | None = None
) -> dict[str, Any]:
    """Run the cold-start SFT; returns the run summary (also in `<run>/summary.json`)."""
    dataset = sft_dataset(config.data)
    run = RunDir(Path(config.output_dir).expanduser())
    checkpoint = run.start(config, config.seed, resume)
    model, tokenizer = load_policy(config.model, config.threads)
    monitor, meter = build_monitor(
        config.monitor, run, model, config.data.world_seed, MONITOR_REWARDS, on_record
    )
    trainer = MeteredSFTTrainer(
        model=model,
        args=sft_arguments(config, run),
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[monitor],
    )
    return train_and_finish(trainer, checkpoint, run, meter, tokenizer)
