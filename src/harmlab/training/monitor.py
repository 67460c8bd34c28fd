"""The live monitor: a `transformers.TrainerCallback` that writes one metrics record per step.

    harmlab train grpo --config configs/grpo-after-sft.yaml monitor.every=5 monitor.tensorboard=true

Every optimizer step it appends one flushed record to `metrics.jsonl`: the trainer's own logs
(loss; for GRPO TRL's reward, reward_std, per-reward means, kl, entropy), the compute meter's
totals, and, every `monitor.every` steps (and at the first and last), a probe of the policy
graded by the gold judge and by the rule named in `monitor.rule` (`harmlab.training.probe`);
the probe's held-out harmful requests are sampled in the same batch and scored apart
(`probe/*_held_out`), every other probe key reads the trained probes only.
The same numbers go to TensorBoard when asked and to the progress bar. TRL's end-of-train
summary is not a step: it goes to summary.json instead, so steps in metrics.jsonl are unique.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from harmlab.evaluation.generation import SamplingConfig, generate_rows
from harmlab.evaluation.rules import Rule
from harmlab.rewards.base import RewardFunction
from harmlab.training.compute import ComputeMeter
from harmlab.training.config import MonitorConfig
from harmlab.training.probe import score_held_out, score_probe, token_stats
from harmlab.training.rundir import MetricsLog
from harmlab.world import SafetyWorld, WorldPrompt

_SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second")


def is_probe_step(step: int, every: int, last: int) -> bool:
    """Probe at step 1, every `every` steps, and at the last step (never when every is 0).

    >>> [s for s in range(1, 12) if is_probe_step(s, 5, 11)]
    [1, 5, 10, 11]
    """
    return every > 0 and (step == 1 or step % every == 0 or step == last)


def clean(record: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe numbers: NaN and infinities become None, floats are rounded."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float):
            value = None if not math.isfinite(value) else round(value, 6)
        out[key] = value
    return out


class GoldMonitor(TrainerCallback):
    """Probes the policy with the gold judge and writes one metrics record per step."""

    def __init__(
        self,
        config: MonitorConfig,
        metrics: MetricsLog,
        meter: ComputeMeter,
        world: SafetyWorld,
        probes: Sequence[WorldPrompt],
        rewards: tuple[Sequence[RewardFunction], Sequence[float]],
        start_model: Any | None = None,
        rule: Rule | None = None,
        on_record: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.config, self.metrics, self.meter = config, metrics, meter
        self.world, self.probes, self.rewards = world, list(probes), rewards
        self.start_model = start_model
        self.rule = rule
        """The rule behind `probe/gamed` and `probe/rule_safe` (None: both are None)."""
        self.on_record = on_record
        self.pending: dict[str, Any] = {}
        self.tensorboard: Any = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.config.tensorboard and self.tensorboard is None:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(log_dir=f"{args.output_dir}/tensorboard")

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if is_probe_step(state.global_step, self.config.every, state.max_steps):
            self.pending = self.probe(
                kwargs["model"], kwargs["processing_class"], state.global_step
            )

    def probe(self, model: Any, tokenizer: Any, step: int) -> dict[str, Any]:
        """Sample the probe set once and score it (gold, proxy, KL, entropy)."""
        sampling = SamplingConfig(
            temperature=self.config.temperature, max_new_tokens=self.config.max_new_tokens
        )
        was_training = model.training
        model.eval()
        with self.meter.phase("probe"):
            rows = generate_rows(model, tokenizer, [p.text for p in self.probes], sampling, step)
            trained = [(p, g) for p, g in zip(self.probes, rows, strict=True) if not p.held_out]
            held = [(p, g) for p, g in zip(self.probes, rows, strict=True) if p.held_out]
            prompts, generations = [p for p, _ in trained], [g for _, g in trained]
            out: dict[str, Any] = score_probe(
                self.world, prompts, generations, self.rewards, self.rule
            )
            if held:
                out |= score_held_out(
                    self.world, [p for p, _ in held], [g for _, g in held], self.rule
                )
            if self.start_model is not None and self.config.kl:
                texts = [p.text for p in prompts]
                stats = token_stats(
                    model, self.start_model, tokenizer, texts, [g.text for g in generations]
                )
                out["probe/kl"] = stats.kl
                out["probe/sqrt_kl"] = math.sqrt(max(stats.kl, 0.0))
                out["probe/entropy"] = stats.entropy
        if was_training:
            model.train()
        return out

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        logs = dict(logs or {})
        if any(key in logs for key in _SUMMARY_KEYS):
            return  # the end-of-train summary, not a step
        record = clean({"step": state.global_step, **logs, **self.meter.snapshot(), **self.pending})
        self.pending = {}
        self.metrics.append(record)
        if self.tensorboard is not None:
            for key, value in record.items():
                if isinstance(value, int | float) and key != "step":
                    self.tensorboard.add_scalar(key, value, state.global_step)
            self.tensorboard.flush()
        if self.on_record:
            self.on_record(record)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
