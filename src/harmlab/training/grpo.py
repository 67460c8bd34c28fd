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

On CPU the subclass also scores completions with the model's own LM head (`completion_logps`):
TRL's fused head, written not to hold the (batch, tokens, vocab) logits, runs there as a chain
of torch ops over every prompt position and recomputes the projection in the backward pass,
which made TRL's step 1.3x a hand-written one (`python benchmarks/grpo_step.py --threads 1`).
The log-probabilities, entropies and gradients are the same up to float rounding.
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

PLAIN_HEAD_MAX_LOGITS = 2**28
"""Most completion logits (elements: 1 GiB in float32) a CPU scoring pass may hold at once;
larger batches keep TRL's fused head, which never holds them."""


def completion_logps(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    logits_to_keep: int,
    temperature: float,
    entropy: bool,
    entropy_grad: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probabilities (and entropies) of the last `logits_to_keep` tokens at `temperature`,
    from the model's own logits: what TRL's fused head returns, 0 where the mask is 0.

    Only the completion positions go through the LM head (`logits_to_keep`), the softmax is one
    `log_softmax`; the entropy carries a gradient only when `entropy_grad` (TRL's entropy bonus).
    """
    outputs = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        logits_to_keep=logits_to_keep + 1,  # position t predicts token t + 1
        use_cache=False,
    )
    logits = outputs.logits[:, :-1].float()
    if temperature != 1.0:
        logits = logits / temperature
    log_probs = torch.log_softmax(logits, dim=-1)
    targets = input_ids[:, -logits_to_keep:]
    padding = attention_mask[:, -logits_to_keep:] == 0
    logps = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1).masked_fill(padding, 0.0)
    if not entropy:
        return logps, None
    with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
        entropies = -(log_probs.exp() * log_probs).sum(-1).masked_fill(padding, 0.0)
    return logps, entropies


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

    def _get_per_token_logps_and_entropies(
        self,
        model: Any,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        logits_to_keep: int,
        batch_size: int | None = None,
        compute_entropy: bool = False,
        compute_aux_loss: bool = False,
        **multimodal: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """TRL's scoring pass; text batches on CPU go through `completion_logps` (see the
        module's docstring), in TRL's chunks of `batch_size` sequences."""
        size = min(batch_size or input_ids.size(0), input_ids.size(0))
        if (
            not self.plain_head_fits(model, size * logits_to_keep)
            or compute_aux_loss
            or any(value is not None for value in multimodal.values())
        ):
            return super()._get_per_token_logps_and_entropies(
                model,
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size=batch_size,
                compute_entropy=compute_entropy,
                compute_aux_loss=compute_aux_loss,
                **multimodal,
            )
        entropy_grad = self.entropy_coef != 0.0 or self.use_adaptive_entropy  # a bonus in the loss
        chunks = []
        for start in range(0, input_ids.size(0), size):
            rows = slice(start, start + size)
            with self.accelerator.autocast():
                chunks.append(
                    completion_logps(
                        model,
                        input_ids[rows],
                        attention_mask[rows],
                        logits_to_keep,
                        self.temperature,
                        compute_entropy,
                        entropy_grad,
                    )
                )
        logps = torch.cat([logps for logps, _ in chunks])
        entropies = torch.cat([e for _, e in chunks if e is not None]) if compute_entropy else None
        return logps, entropies, None

    def plain_head_fits(self, model: Any, tokens: int) -> bool:
        """Whether `completion_logps` scores `tokens` positions: on CPU, where TRL's fused head
        has no kernel, and when their logits fit `PLAIN_HEAD_MAX_LOGITS`."""
        if self.accelerator.device.type != "cpu":
            return False
        config = self.accelerator.unwrap_model(model).config.get_text_config()
        return bool(tokens * config.vocab_size <= PLAIN_HEAD_MAX_LOGITS)

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
