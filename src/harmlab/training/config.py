"""Typed configs of training runs: what `configs/*.yaml` may say, one docstring per field.

    harmlab train sft --config configs/sft-cold-start.yaml train.steps=50
    harmlab train grpo --config configs/grpo-after-sft.yaml rewards.0.weight=2

Loaded by `harmlab.config.load_config`, so an unknown key is a one-line error naming it and the
valid keys of its section, and values are type-checked before any model is loaded. Derived
values (TRL's batch sizes) are properties, never filled in at runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harmlab.rewards.registry import RewardSpec


@dataclass
class WorldData:
    """Where training examples come from: SafetyWorld's split and/or JSONL files."""

    world_seed: int = 0
    """Seed of the SafetyWorld that supplies prompts (and grades them)."""
    size: int = 256
    """Examples (SFT) or prompts (GRPO) drawn from the world; 0 uses only `files`."""
    mix: dict[str, float] = field(
        default_factory=lambda: {"harmful": 0.4, "benign": 0.4, "borderline": 0.2}
    )
    """Share of each prompt family (harmful requests come from training categories only)."""
    files: list[str] = field(default_factory=list)
    """JSONL files: SFT rows `{"messages": [...]}`, GRPO rows `{"prompt": ...}` (+ columns)."""
    seed: int = 0
    """Seed of the draw (which prompts, which response phrasings)."""


@dataclass
class MonitorConfig:
    """The live monitor: samples the policy on a fixed probe set and grades it with gold."""

    every: int = 5
    """Probe every this many optimizer steps (and at the first and last step); 0 disables."""
    probes_per_family: int = 8
    """Probe prompts per family (harmful from the test split, benign, borderline)."""
    max_new_tokens: int = 96
    """Longest probe completion, in tokens."""
    temperature: float = 1.0
    """Probe sampling temperature (the policy as RL samples it)."""
    kl: bool = True
    """Estimate KL(policy || start policy) on probe completions (keeps a frozen copy)."""
    tensorboard: bool = False
    """Also write metrics as TensorBoard scalars under `<run>/tensorboard`."""


@dataclass
class SFTTrainConfig:
    """Optimisation settings of the cold-start SFT (passed to `trl.SFTConfig`)."""

    steps: int = 60
    """Optimizer steps."""
    batch_size: int = 16
    """Sequences per optimizer step."""
    learning_rate: float = 1e-3
    """Peak learning rate (cosine decay after `warmup_ratio`)."""
    warmup_ratio: float = 0.05
    """Share of steps spent warming the learning rate up."""
    max_length: int = 192
    """Longest training sequence in tokens (longer ones are truncated)."""
    completion_only_loss: bool = True
    """Train on the response tokens only, not on the prompt."""
    save_every: int = 20
    """Checkpoint every this many steps (what `--resume` restarts from)."""
    activation_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory. TRL turns it on by default;
    for small models it only costs time (about a third more per update), so it is off here."""


@dataclass
class GRPOTrainConfig:
    """GRPO settings (passed to `trl.GRPOConfig`)."""

    steps: int = 40
    """Optimizer steps."""
    prompts_per_step: int = 8
    """Distinct prompts per optimizer step; each gets `num_generations` completions."""
    num_generations: int = 8
    """Group size G: completions per prompt whose rewards are normalised together."""
    learning_rate: float = 1e-4
    """Peak learning rate (constant after warm-up)."""
    beta: float = 0.02
    """KL coefficient against the reference (start) policy; 0 drops the reference model."""
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo"] = "dapo"
    """TRL's loss aggregation (grpo: per-sequence mean; dapo: per-token over the batch)."""
    epsilon: float = 0.2
    """Lower clip range of the importance ratio."""
    epsilon_high: float = 0.28
    """Upper clip range (DAPO clip-higher, arXiv 2503.14476)."""
    temperature: float = 1.0
    """Sampling temperature of the rollouts."""
    max_completion_length: int = 96
    """Longest rollout, in tokens."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Advantage normalisation: by the group's std (GRPO), the batch's, or none (Dr. GRPO)."""
    save_every: int = 10
    """Checkpoint every this many steps (what `--resume` restarts from)."""
    activation_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory. TRL turns it on by default;
    for small models it only costs time (about a third more per update), so it is off here."""

    @property
    def completions_per_step(self) -> int:
        """TRL's `per_device_train_batch_size`: it counts completions, not prompts."""
        return self.prompts_per_step * self.num_generations


@dataclass
class SFTRunConfig:
    """A cold-start SFT run: `harmlab train sft --config configs/sft-cold-start.yaml`."""

    model: str = "tiny"
    """Model reference (`tiny`, `smollm2`, a folder, a run directory, or a hub id)."""
    output_dir: str = "runs/sft-cold-start"
    """Run directory: config, metrics.jsonl, checkpoints, final/ model."""
    seed: int = 0
    """Seed of everything random in the run."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default). On a busy machine 1 can be many times
    faster than 2, because waiting OpenMP threads spin."""
    data: WorldData = field(default_factory=WorldData)
    """The SFT pool: refusals, concise same-language reasoning, plain help."""
    train: SFTTrainConfig = field(default_factory=SFTTrainConfig)
    """Optimisation."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The live gold monitor."""


@dataclass
class GRPORunConfig:
    """A GRPO run: `harmlab train grpo --config configs/grpo-after-sft.yaml`."""

    model: str = "tiny"
    """Start policy (a base model for RL-only, an SFT run directory for the hybrid)."""
    sft: str | None = None
    """An SFT run config (YAML path) for the hybrid: the policy starts from that run's final
    model, which is trained first when missing; `model` is then unused."""
    output_dir: str = "runs/grpo"
    """Run directory: config, metrics.jsonl, checkpoints, final/ model."""
    seed: int = 0
    """Seed of everything random in the run."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default). On a busy machine 1 can be many times
    faster than 2, because waiting OpenMP threads spin."""
    prompts: WorldData = field(default_factory=WorldData)
    """RL prompts (from the world's `rl` split)."""
    rewards: list[RewardSpec] = field(
        default_factory=lambda: [RewardSpec("format", 0.5), RewardSpec("accuracy", 1.0)]
    )
    """Reward terms with weights; the monitor's proxy reward is their weighted sum."""
    train: GRPOTrainConfig = field(default_factory=GRPOTrainConfig)
    """Optimisation."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The live gold monitor."""
