"""GRPO through TRL's `GRPOTrainer`, with R1-style rule rewards and the live gold monitor.

    harmlab train grpo --config configs/grpo-from-base.yaml      # RL-only (R1-Zero-like)
    harmlab train grpo --config configs/grpo-after-sft.yaml      # hybrid: RL from the SFT run

DeepSeek-R1 (arXiv 2501.12948) optimises the GRPO objective of DeepSeekMath (arXiv 2402.03300)
with rule rewards. This is TRL's implementation unchanged; harmlab adds only a subclass that
times the three phases of a step for the compute meter (`_generate`, `_calculate_rewards`, the
rest), counts generated tokens and completions (gathered over processes, so a data-parallel
step shows every process's share), and keeps the data order a function of the step across
`--resume`. Departures from R1, all configurable: TRL's default DAPO
token-level loss and clip-higher (arXiv 2503.14476) instead of R1's per-sequence mean, and a
small KL coefficient against the start policy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from trl import GRPOTrainer

from harmlab.models.embedded import for_world
from harmlab.rewards.registry import build_rewards
from harmlab.training.arguments import grpo_arguments, lora_config, resolve_run_config
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
from harmlab.training.config import GRPORunConfig
from harmlab.training.data import (
    EpochOrderedGroups,
    data_world,
    grpo_dataset,
)


class MeteredGRPOTrainer(EpochOrderedGroups, GRPOTrainer):
    """TRL's GRPOTrainer with a compute meter around generation, scoring and the update, and a
    data order that survives `--resume` (`EpochOrderedGroups`)."""

    meter: ComputeMeter

    def _generate(self, prompts: list) -> Any:
        with self.meter.phase("generation"):
            out = super()._generate(prompts)
        # Gathered over processes: every process generates its own slice of the step's groups.
        local = [len(out[1]), sum(len(ids) for ids in out[1])]
        counts = self.accelerator.gather(torch.tensor([local], device=self.accelerator.device))
        self.meter.tokens_generated += int(counts[:, 1].sum())
        metrics = self._metrics["train" if getattr(self.model, "training", True) else "eval"]
        metrics["completions"].append(float(counts[:, 0].sum()))
        metrics["processes"].append(float((counts[:, 0] > 0).sum()))
        return out

    def _calculate_rewards(self, *args: Any, **kwargs: Any) -> Any:
        with self.meter.phase("scoring"):
            return super()._calculate_rewards(*args, **kwargs)

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        with self.meter.step():
            loss = super().training_step(*args, **kwargs)
        self.meter.tokens_trained = int(self.state.num_input_tokens_seen)
        return loss


def train_grpo(
    config: GRPORunConfig, resume: bool = False, on_record: RecordHook | None = None
) -> dict[str, Any]:
    """Run GRPO as configured; returns the run summary (also in `<run>/summary.json`).

    Everything is checked (rewards, `trl:`, `peft:`, batch split, the run folder) before any
    work, and the model, prompts and trainer are built before the run folder is written.
    """
    world = config.prompts
    functions, weights = build_rewards(config.rewards, world.world_seed, world.held_out_category)
    trainer_class = make_trainer(config)
    config = resolve_run_config(config)
    args = grpo_arguments(config, weights, launched_processes())
    lora = lora_config(config.peft)
    check_run_folder(config, resume)
    trained = resume_trained(config, resume)
    if trained is not None:
        return trained
    dataset = grpo_dataset(config.prompts)
    start = for_world(config.model, config.prompts.world_seed)  # `tiny`: this world's base
    model, tokenizer = load_policy(start, config.threads)
    rewards = (functions, weights)
    inputs = (data_world(config.prompts), rewards)
    monitor, meter = prepare_monitor(config, model, inputs, on_record)
    trainer = trainer_class(
        model=model,
        reward_funcs=list(functions),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[monitor] if monitor else None,
    )
    return run_training(trainer, config, tokenizer, meter, resume)


def make_trainer(config: GRPORunConfig) -> Callable[..., MeteredGRPOTrainer]:
    """The trainer class a config asks for: constrained (Lagrangian) GRPO when it has a
    `constraint:` block, else plain metered GRPO (the cost is built now: a bad one fails early)."""
    if config.constraint is None:
        return MeteredGRPOTrainer
    from harmlab.training.constrained import ConstrainedGRPOTrainer, build_cost  # imports us

    cost = build_cost(config.constraint, data_world(config.prompts))
    return partial(ConstrainedGRPOTrainer, constraint=config.constraint, cost=cost)
