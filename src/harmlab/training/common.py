"""What SFT and GRPO runs share: the policy, the trainer arguments, the monitor, the finish.

    harmlab train sft --config configs/sft-cold-start.yaml
    harmlab train grpo --config configs/grpo-after-sft.yaml

Runs are CPU-friendly by default (`use_cpu` without CUDA, float32, no bf16), log every step
(one metrics record each), checkpoint in safetensors every `save_every` steps, and keep
optimizer, scheduler and RNG state in each checkpoint so that `--resume` continues exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from harmlab.models.resolve import load_model
from harmlab.rewards.base import RewardFunction
from harmlab.rewards.safety import KeywordBlocklistReward
from harmlab.training.compute import ComputeMeter
from harmlab.training.config import GRPOTrainConfig, MonitorConfig, SFTTrainConfig
from harmlab.training.monitor import GoldMonitor
from harmlab.training.probe import probe_prompts
from harmlab.training.rundir import RunDir
from harmlab.world import SafetyWorld

RecordHook = Callable[[dict[str, Any]], None]
"""Called with each metrics record as it is written (progress bars)."""


def load_policy(ref: str, threads: int | None = None) -> tuple[Any, Any]:
    """The start policy in train-ready form (float32 on CPU) and its tokenizer."""
    if threads:
        torch.set_num_threads(threads)
    import harmlab.models.embedded  # noqa: F401  (registers the model name "tiny")

    model, tokenizer = load_model(ref, dtype=None if torch.cuda.is_available() else torch.float32)
    model.train()
    return model, tokenizer


def trainer_arguments(
    run: RunDir, seed: int, train: SFTTrainConfig | GRPOTrainConfig
) -> dict[str, Any]:
    """TrainingArguments shared by `SFTConfig` and `GRPOConfig`."""
    on_cpu = not torch.cuda.is_available()
    return {
        "output_dir": str(run.path),
        "max_steps": train.steps,
        "seed": seed,
        "data_seed": seed,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": max(1, train.save_every),
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": on_cpu,
        "bf16": False,
        "dataloader_num_workers": 0,
        "activation_checkpointing": train.activation_checkpointing,
    }


def build_monitor(
    config: MonitorConfig,
    run: RunDir,
    model: Any,
    world_seed: int,
    rewards: tuple[Sequence[RewardFunction], Sequence[float]],
    on_record: RecordHook | None,
) -> tuple[GoldMonitor, ComputeMeter]:
    """The gold monitor and compute meter of a run (a frozen start-policy copy for KL)."""
    meter = ComputeMeter(n_params=sum(p.numel() for p in model.parameters()))
    kept = run.metrics.records()
    if kept:
        meter.restore(kept[-1])
    world = SafetyWorld(world_seed)
    start = None
    if config.kl and config.every > 0:
        start = copy.deepcopy(model).eval()
        start.requires_grad_(False)
    rule = next((f for f in rewards[0] if isinstance(f, KeywordBlocklistReward)), None)
    monitor = GoldMonitor(
        config,
        run.metrics,
        meter,
        world,
        probe_prompts(world, config.probes_per_family),
        rewards,
        start_model=start,
        rule=rule,
        on_record=on_record,
    )
    return monitor, meter


def quiet(trainer: Any) -> Any:
    """Drop transformers' stdout printer of raw logs (the monitor and progress bar report)."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def train_and_finish(
    trainer: Any, checkpoint: Path | None, run: RunDir, meter: ComputeMeter, tokenizer: Any
) -> dict[str, Any]:
    """Train (from `checkpoint` when resuming), then save the final model and summary."""
    quiet(trainer).meter = meter
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    return finish(trainer, run, meter, tokenizer)


def finish(trainer: Any, run: RunDir, meter: ComputeMeter, tokenizer: Any) -> dict[str, Any]:
    """Save the final HF folder and summary.json; returns the summary."""
    trainer.save_model(str(run.final))
    tokenizer.save_pretrained(str(run.final))
    records = run.metrics.records()
    summary = {
        "steps": trainer.state.global_step,
        "records": len(records),
        "final_model": str(run.final),
        **meter.snapshot(),
    }
    run.finish(summary)
    return summary
