"""Typed configs of training runs: what `configs/*.yaml` may say, one docstring per field.

    harmlab train sft --config configs/sft-cold-start.yaml train.steps=50
    harmlab train grpo --config configs/grpo-after-sft.yaml rewards.0.weight=2

Loaded by `harmlab.config.load_config`, so an unknown key is a one-line error naming it and the
valid keys of its section, and values are checked against their types and ranges (`bounds`,
e.g. `train.steps >= 1`) before any model is loaded. Derived values (TRL's batch sizes) are
properties, never filled in at runtime. The free-form `trl:` and `peft:` blocks are checked
against TRL's and PEFT's own dataclasses by `harmlab.training.arguments`, still before any
model is loaded (not here: importing TRL is slow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from harmlab.config import bounds
from harmlab.data.curate import CurateConfig
from harmlab.rewards.registry import RewardSpec


@dataclass
class WorldData:
    """Where training examples come from: SafetyWorld's split and/or JSONL files."""

    world_seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of the SafetyWorld that supplies prompts (and grades them)."""
    held_out_category: str | None = None
    """The category that world holds out of SFT and RL (the leave-one-category-out rotation);
    None: the world's default."""
    size: int = field(default=256, metadata=bounds(ge=0))
    """Examples (SFT) or prompts (GRPO) drawn from the world; 0 uses only `files`."""
    mix: dict[str, float] = field(
        default_factory=lambda: {"harmful": 0.4, "benign": 0.4, "borderline": 0.2},
        metadata=bounds(ge=0),
    )
    """Share of each prompt family (harmful requests come from training categories only)."""
    files: list[str] = field(default_factory=list)
    """JSONL files: SFT rows `{"messages": [...]}`, GRPO rows `{"prompt": ...}` (+ columns)."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of the draw (which prompts, which response phrasings)."""


@dataclass
class MonitorConfig:
    """The live monitor: samples the policy on a fixed probe set and grades it with gold."""

    every: int = field(default=5, metadata=bounds(ge=0))
    """Probe every this many optimizer steps (and at the first and last step); 0 disables."""
    probes_per_family: int = field(default=8, metadata=bounds(ge=1))
    """Probe prompts per family (harmful from the test split, benign, borderline)."""
    max_new_tokens: int = field(default=96, metadata=bounds(ge=1))
    """Longest probe completion, in tokens."""
    temperature: float = field(default=1.0, metadata=bounds(ge=0))
    """Probe sampling temperature (the policy as RL samples it)."""
    kl: bool = True
    """Estimate KL(policy || start policy) on probe completions (keeps a frozen copy)."""
    tensorboard: bool = False
    """Also write metrics as TensorBoard scalars under `<run>/tensorboard`."""
    rule: str = "keyword_blocklist:completion"
    """The rule behind `probe/gamed` and `probe/rule_safe`: `NAME[:answer|completion|think]`, a
    safety rule reward (keyword_blocklist, refusal_phrase) or a judge, or none; see
    `harmlab.evaluation.rules`. Name the rule the run trains against to measure its hacking."""

    def __post_init__(self) -> None:
        from harmlab import HarmlabError
        from harmlab.evaluation.rules import check_rule  # here: rules import the reward registry

        try:
            check_rule(self.rule)
        except HarmlabError as error:  # the config loader reports ValueErrors with their key
            raise ValueError(str(error)) from None


@dataclass
class SFTTrainConfig:
    """Optimisation settings of the cold-start SFT (passed to `trl.SFTConfig`)."""

    steps: int = field(default=60, metadata=bounds(ge=1))
    """Optimizer steps."""
    batch_size: int = field(default=16, metadata=bounds(ge=1))
    """Sequences per optimizer step, over all processes and accumulation micro-steps (must
    divide by processes × `trl.gradient_accumulation_steps`)."""
    learning_rate: float = field(default=1e-3, metadata=bounds(gt=0))
    """Peak learning rate (cosine decay after `warmup_ratio`; `trl.lr_scheduler_type` changes
    the schedule)."""
    warmup_ratio: float = field(default=0.05, metadata=bounds(ge=0, le=1))
    """Share of steps spent warming the learning rate up."""
    max_length: int = field(default=192, metadata=bounds(ge=1))
    """Longest training sequence in tokens (longer ones are truncated)."""
    completion_only_loss: bool = True
    """Train on the response tokens only, not on the prompt."""
    save_every: int = field(default=20, metadata=bounds(ge=1))
    """Checkpoint every this many steps (what `--resume` restarts from)."""
    activation_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory. TRL turns it on by default;
    for small models it only costs time (about a third more per update), so it is off here."""


@dataclass
class GRPOTrainConfig:
    """GRPO settings (passed to `trl.GRPOConfig`)."""

    steps: int = field(default=40, metadata=bounds(ge=1))
    """Optimizer steps."""
    prompts_per_step: int = field(default=8, metadata=bounds(ge=1))
    """Distinct prompts per optimizer step, over all processes; each gets `num_generations`
    completions (their number must divide by processes × `trl.gradient_accumulation_steps`)."""
    num_generations: int = field(default=8, metadata=bounds(ge=2))
    """Group size G: completions per prompt whose rewards are normalised together."""
    learning_rate: float = field(default=1e-4, metadata=bounds(gt=0))
    """Peak learning rate (constant unless `trl.lr_scheduler_type` / `trl.warmup_steps` say
    otherwise)."""
    beta: float = field(default=0.02, metadata=bounds(ge=0))
    """KL coefficient against the reference (start) policy; 0 drops the reference model."""
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo"] = "dapo"
    """TRL's loss aggregation (grpo: per-sequence mean; dapo: per-token over the batch)."""
    epsilon: float = field(default=0.2, metadata=bounds(gt=0, le=1))
    """Lower clip range of the importance ratio."""
    epsilon_high: float = field(default=0.28, metadata=bounds(gt=0))
    """Upper clip range (DAPO clip-higher, arXiv 2503.14476)."""
    temperature: float = field(default=1.0, metadata=bounds(gt=0))
    """Sampling temperature of the rollouts (0 is not greedy here: TRL divides by it)."""
    max_completion_length: int = field(default=96, metadata=bounds(ge=1))
    """Longest rollout, in tokens."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Advantage normalisation: by the group's std (GRPO), the batch's, or none (Dr. GRPO)."""
    save_every: int = field(default=10, metadata=bounds(ge=1))
    """Checkpoint every this many steps (what `--resume` restarts from)."""
    activation_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory. TRL turns it on by default;
    for small models it only costs time (about a third more per update), so it is off here."""

    @property
    def completions_per_step(self) -> int:
        """Completions per optimizer step (TRL's batch sizes count completions, not prompts)."""
        return self.prompts_per_step * self.num_generations


@dataclass
class ConstraintConfig:
    """Constrained GRPO (`harmlab.training.constrained`): keep the mean cost under `limit` with a
    Lagrange multiplier λ learned by dual ascent; advantages are A_r - λ·A_c."""

    cost: str = "gold"
    """The cost as a rule or judge spec `NAME[:answer|completion|think]`
    (`harmlab.evaluation.rules`): 1 where it calls a completion unsafe, 0 where safe (a rule
    that does not judge a row leaves it out). `gold` is SafetyWorld's harmful compliance."""
    cost_reward: RewardSpec | None = None
    """A reward whose output is the cost (e.g. `{name: learned_safety, params: {path: DIR,
    output: cost}}`); replaces `cost` when set."""
    limit: float = field(default=0.1, metadata=bounds(ge=0))
    """The constraint: mean cost per generation batch at most this."""
    lambda_init: float = field(default=0.0, metadata=bounds(ge=0))
    """λ at the first step."""
    lambda_lr: float = field(default=0.5, metadata=bounds(gt=0))
    """Dual ascent step: λ <- max(0, λ + lambda_lr·(mean cost - limit)) after every batch."""

    def __post_init__(self) -> None:
        from harmlab import HarmlabError
        from harmlab.evaluation.rules import check_rule  # here: rules import the reward registry

        if self.cost_reward is None:
            try:
                check_rule(self.cost)
            except HarmlabError as error:  # the config loader reports ValueErrors with their key
                raise ValueError(str(error)) from None


@dataclass
class SFTRunConfig:
    """A cold-start SFT run: `harmlab train sft --config configs/sft-cold-start.yaml`."""

    model: str = "tiny"
    """Model reference (`tiny`, `smollm2`, a folder, a run directory, or a hub id)."""
    output_dir: str = "runs/sft-cold-start"
    """Run directory: config, metrics.jsonl, checkpoints, final/ model."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of everything random in the run."""
    threads: int | None = field(default=None, metadata=bounds(ge=1))
    """CPU threads for torch (None: torch's default). On a busy machine 1 can be many times
    faster than 2, because waiting OpenMP threads spin."""
    data: WorldData = field(default_factory=WorldData)
    """The SFT pool: refusals, concise same-language reasoning, plain help."""
    train: SFTTrainConfig = field(default_factory=SFTTrainConfig)
    """Optimisation."""
    trl: dict[str, Any] = field(default_factory=dict)
    """Further `trl.SFTConfig` arguments (bf16, gradient_accumulation_steps, lr_scheduler_type,
    report_to, packing, ...), checked against its fields before any work. Keys harmlab sets from
    its own fields (max_steps: `train.steps`, ...) are refused here. The run's config.yaml keeps
    them merged with harmlab's defaults (no bf16, no accumulation, cosine schedule)."""
    peft: dict[str, Any] | None = None
    """LoRA: `peft.LoraConfig` arguments (`{r: 16, lora_alpha: 32, target_modules: all-linear}`;
    task_type defaults to CAUSAL_LM); None trains every weight. `final/` holds the merged model
    (and the adapter in `final/adapter/`)."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The live gold monitor."""


@dataclass
class GRPORunConfig:
    """A GRPO run: `harmlab train grpo --config configs/grpo-after-sft.yaml`."""

    model: str = "tiny"
    """Start policy: a base model for RL-only, an SFT run directory (`runs/sft-cold-start`) for
    the hybrid. Training does not chain stages: train the SFT run first (`harmlab reproduce`
    chains them itself)."""
    output_dir: str = "runs/grpo"
    """Run directory: config, metrics.jsonl, checkpoints, final/ model."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of everything random in the run."""
    threads: int | None = field(default=None, metadata=bounds(ge=1))
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
    trl: dict[str, Any] = field(default_factory=dict)
    """Further `trl.GRPOConfig` arguments (bf16, gradient_accumulation_steps, lr_scheduler_type,
    warmup_steps, report_to, use_vllm, vllm_mode, ...), checked against its fields before any
    work. Keys harmlab sets from its own fields (max_steps: `train.steps`, ...) are refused here.
    The run's config.yaml keeps them merged with harmlab's defaults (no bf16, no accumulation,
    constant learning rate)."""
    peft: dict[str, Any] | None = None
    """LoRA: `peft.LoraConfig` arguments (`{r: 16, lora_alpha: 32, target_modules: all-linear}`;
    task_type defaults to CAUSAL_LM); None trains every weight. `final/` holds the merged model
    (and the adapter in `final/adapter/`)."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The live gold monitor."""
    constraint: ConstraintConfig | None = None
    """Constrained GRPO: a cost kept under a limit by a learned multiplier (None: plain GRPO)."""


DistillMode = Literal["offpolicy", "onpolicy"]
"""How the student learns from the teacher (`DistillRunConfig.mode`)."""


@dataclass
class OnPolicyConfig:
    """On-policy distillation (`mode: onpolicy`): `trl.DistillationConfig`'s own knobs.

    TRL 1.16's `DistillationTrainer` is fully on-policy (GKD's on-policy share lmbda = 1, arXiv
    2306.13649): it has no lmbda. The other end, training on teacher samples, is `mode:
    offpolicy`; a mixture would need the experimental `trl.experimental.gkd.GKDTrainer`."""

    beta: float = field(default=1.0, metadata=bounds(ge=0, le=1))
    """The divergence between the two next-token distributions on the student's tokens (TRL's
    generalized Jensen-Shannon): 0 forward KL(teacher || student), 0.5 JSD, 1 reverse
    KL(student || teacher), TRL's default, mode-seeking."""
    temperature: float = field(default=1.0, metadata=bounds(gt=0))
    """Temperature of the student's samples, also applied to both distributions in the loss."""
    max_new_tokens: int = field(default=128, metadata=bounds(ge=1))
    """Longest student sample in tokens (the loss covers these tokens)."""


@dataclass
class DistillRunConfig:
    """A distillation run: `harmlab train distill --config configs/distill.yaml`.

    Off-policy (default): the teacher writes traces (`harmlab.data.curate`, into
    `<output_dir>/traces`), the student is fine-tuned on them by the cold-start SFT code (into
    `<output_dir>/student`). On-policy: the student samples the trace prompts and is trained
    toward the teacher's token distribution on its own samples (`training.distill_onpolicy`)."""

    teacher: str = "runs/grpo-after-sft"
    """The model distilled: a run directory or any model reference (it writes the traces, or,
    on-policy, scores the student's samples)."""
    student: str = "student"
    """The model trained: `student` (a smaller embedded model pretrained on the same world
    corpus, sharing the tiny tokenizer), or any model reference (on-policy: one that shares the
    teacher's vocabulary)."""
    output_dir: str = "runs/distill"
    """Distillation folder: `traces/` (sft.jsonl, provenance.json; on-policy: `prompts.jsonl`
    instead), `student/` (the student's run directory: the student model is
    `<output_dir>/student`), `distill.json`."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of everything random in the run."""
    threads: int | None = field(default=None, metadata=bounds(ge=1))
    """CPU threads for torch (None: torch's default)."""
    mode: DistillMode = "offpolicy"
    """`offpolicy`: SFT on the teacher's sampled, filtered traces (R1-Distill's recipe);
    `onpolicy`: TRL's `DistillationTrainer` on the student's own samples of the trace prompts
    (no filter applies: the teacher writes no text)."""
    traces: CurateConfig = field(default_factory=lambda: CurateConfig(judge="none"))
    """How the teacher's traces are sampled and filtered: `traces.judge` is the filter (`none`
    keeps every well-formed trace; a rule such as keyword_blocklist, or gold). On-policy reads
    only the prompt draw (prompts, size, mix, world_seed, held_out_category, seed, data_dir)."""
    onpolicy: OnPolicyConfig = field(default_factory=OnPolicyConfig)
    """On-policy knobs (read only with `mode: onpolicy`)."""
    train: SFTTrainConfig = field(default_factory=SFTTrainConfig)
    """Optimisation of the student (off-policy: SFT on the traces, loss on the completion;
    on-policy: `batch_size` prompts per step, `max_length` and `completion_only_loss` unused)."""
    trl: dict[str, Any] = field(default_factory=dict)
    """Further `trl.SFTConfig` arguments (on-policy: `trl.DistillationConfig`), as in an SFT run."""
    peft: dict[str, Any] | None = None
    """LoRA for the student (`peft.LoraConfig` arguments); None trains every weight."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The live gold monitor of the student."""

    def __post_init__(self) -> None:
        if self.mode == "onpolicy" and self.traces.judge.strip() != "none":
            raise ValueError(
                f"'traces.judge' is {self.traces.judge!r} but on-policy distillation has no "
                "teacher traces to filter (the teacher scores the student's own samples); set "
                "traces.judge=none, or mode=offpolicy"
            )


@dataclass
class OnPolicyRunConfig:
    """The student's run of an on-policy distillation, `<output_dir>/student/config.yaml`:
    derived from a `DistillRunConfig` by `training.distill_onpolicy`, not a command of its own."""

    model: str = "student"
    """The student (start model of the run)."""
    teacher: str = "runs/grpo-after-sft"
    """The fixed teacher whose token distribution the student is trained toward."""
    output_dir: str = "runs/distill/student"
    """Run directory: config, metrics.jsonl, checkpoints, final/ model."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of everything random in the run."""
    threads: int | None = field(default=None, metadata=bounds(ge=1))
    """CPU threads for torch (None: torch's default)."""
    prompts: WorldData = field(default_factory=lambda: WorldData(size=0))
    """The prompts the student samples: the distillation's `prompts.jsonl`."""
    onpolicy: OnPolicyConfig = field(default_factory=OnPolicyConfig)
    """TRL's distillation knobs."""
    train: SFTTrainConfig = field(default_factory=SFTTrainConfig)
    """Optimisation."""
    trl: dict[str, Any] = field(default_factory=dict)
    """Further `trl.DistillationConfig` arguments."""
    peft: dict[str, Any] | None = None
    """LoRA for the student; None trains every weight."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The live gold monitor of the student."""


TrainingRunConfig = SFTRunConfig | GRPORunConfig | OnPolicyRunConfig
"""A run with a run directory (`training.rundir`) that `training.common` starts and finishes."""
