"""GRPO through TRL's `GRPOTrainer`, with R1-style rule rewards and the live gold monitor.

    harmlab train grpo --config configs/grpo-from-base.yaml      # RL-only (R1-Zero-like)
    harmlab train grpo --config configs/grpo-after-sft.yaml      # hybrid: SFT then RL

DeepSeek-R1 (arXiv 2501.12948) optimises the GRPO objective of DeepSeekMath (arXiv 2402.03300)
with rule rewards. This is TRL's implementation unchanged; harmlab adds only a subclass that
times the three phases of a step for the compute meter (`_generate`, `_calculate_rewards`, the
rest) and counts generated tokens. Departures from R1, all configurable: TRL's default DAPO
token-level loss and clip-higher (arXiv 2503.14476) instead of R1's per-sequence mean, and a
small KL coefficient against the start policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trl import GRPOConfig, GRPOTrainer

from harmlab.config import load_config
from harmlab.rewards.registry import build_rewards
from harmlab.training.common import (
    RecordHook,
    build_monitor,
    load_policy,
    train_and_finish,
    trainer_arguments,
)
from harmlab.training.compute import ComputeMeter
from harmlab.training.config import GRPORunConfig, SFTRunConfig
from harmlab.training.data import grpo_dataset
from harmlab.training.rundir import RunDir
from harmlab.training.sft import train_sft


class MeteredGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with a compute meter around generation, scoring and the update."""

    meter: ComputeMeter

    def _generate(self, prompts: list) -> Any:
        with self.meter.phase("generation"):
            out = super()._generate(prompts)
        self.meter.tokens_generated += sum(len(ids) for ids in out[1])
        return out

    def _calculate_rewards(self, *args: Any, **kwargs: Any) -> Any:
        with self.meter.phase("scoring"):
            return super()._calculate_rewards(*args, **kwargs)

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        with self.meter.step():
            loss = super().training_step(*args, **kwargs)
        self.meter.tokens_trained = int(self.state.num_input_tokens_seen)
        return loss


def grpo_arguments(config: GRPORunConfig, weights: list[float], run: RunDir) -> GRPOConfig:
    """TRL's GRPOConfig from ours (per_device_train_batch_size counts completions)."""
    train = config.train
    return GRPOConfig(
        **trainer_arguments(run, config.seed, train),
        per_device_train_batch_size=train.completions_per_step,
        gradient_accumulation_steps=1,
        num_generations=train.num_generations,
        learning_rate=train.learning_rate,
        lr_scheduler_type="constant",
        beta=train.beta,
        loss_type=train.loss_type,
        epsilon=train.epsilon,
        epsilon_high=train.epsilon_high,
        temperature=train.temperature,
        max_completion_length=train.max_completion_length,
        scale_rewards=train.scale_rewards,
        reward_weights=weights,
        log_completions=False,
    )


def sft_start(config: GRPORunConfig, on_record: RecordHook | None = None) -> str:
    """The start policy: `model`, or the final model of the `sft` run (trained if missing)."""
    if config.sft is None:
        return config.model
    sft_config = load_config(SFTRunConfig, config.sft)
    if sft_config.threads is None:
        sft_config.threads = config.threads  # one machine, one thread setting for both stages
    run = RunDir(Path(sft_config.output_dir).expanduser())
    if not (run.final / "config.json").is_file():
        partial = run.path.is_dir() and (run.path / "config.yaml").is_file()
        train_sft(sft_config, resume=partial, on_record=on_record)
    return str(run.final)


def train_grpo(
    config: GRPORunConfig, resume: bool = False, on_record: RecordHook | None = None
) -> dict[str, Any]:
    """Run GRPO as configured; returns the run summary (also in `<run>/summary.json`)."""
    functions, weights = build_rewards(config.rewards)  # validates rewards before any work
    dataset = grpo_dataset(config.prompts)
    if config.sft is not None:
        load_config(SFTRunConfig, config.sft)  # validate the SFT stage's config before any work
    run = RunDir(Path(config.output_dir).expanduser())
    checkpoint = run.start(config, config.seed, resume)
    model, tokenizer = load_policy(sft_start(config), config.threads)
    monitor, meter = build_monitor(
        config.monitor, run, model, config.prompts.world_seed, (functions, weights), on_record
    )
    trainer = MeteredGRPOTrainer(
        model=model,
        reward_funcs=list(functions),
        args=grpo_arguments(config, weights, run),
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[monitor],
    )
    return train_and_finish(trainer, checkpoint, run, meter, tokenizer)
