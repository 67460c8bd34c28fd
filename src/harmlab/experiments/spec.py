"""Experiments as data: each YAML under experiments/configs names its arms and how to judge them.

    harmlab reproduce --only E1,E3 --seeds 3

An experiment compares *arms*. An arm is a training recipe: nothing (the base model), a
cold-start SFT stage, a GRPO stage, or SFT then GRPO, each from a training config of `configs/`
plus `key=value` overrides (the same syntax as `harmlab train`). Every arm is evaluated on
SafetyWorld's `world` suite (test, held-out and borderline prompts and arithmetic) with the gold
judge and the keyword rule. Quick mode applies the experiment's `quick` overrides (fewer steps,
fewer probes) on top; it is a smaller run of the same recipe, never a different one, and it
evaluates on the same suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harmlab import HarmlabError
from harmlab.config import load_config

CONFIG_DIR = Path(__file__).parent / "configs"
"""Where the shipped experiment YAMLs live."""


@dataclass(frozen=True)
class ArmConfig:
    """One training recipe of an experiment."""

    name: str
    """Row label in tables and plots, e.g. 'hybrid'."""
    sft: str | None = None
    """Training config of a cold-start SFT stage (a file, or a name in configs/); None: none."""
    sft_overrides: list[str] = field(default_factory=list)
    """`key=value` overrides for the SFT stage."""
    grpo: str | None = None
    """Training config of a GRPO stage, run after the SFT stage when both are given."""
    grpo_overrides: list[str] = field(default_factory=list)
    """`key=value` overrides for the GRPO stage (e.g. another reward mix)."""


@dataclass(frozen=True)
class EvalSettings:
    """How every arm's final model is measured."""

    samples_per_prompt: int = 1
    """Completions sampled per prompt."""
    max_new_tokens: int = 160
    """Generation budget per completion."""
    temperature: float = 1.0
    """Sampling temperature (1.0: the policy's own distribution)."""


@dataclass(frozen=True)
class QuickSettings:
    """What `--quick` changes: the same recipe, smaller."""

    sft_overrides: list[str] = field(default_factory=list)
    grpo_overrides: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment of the paper, e.g. E1 reward hacking."""

    id: str
    """Short id used by `--only` (E1 ... E5)."""
    title: str
    """Section title in the report."""
    question: str
    """The paper's claim the experiment tests, in one or two sentences."""
    arms: list[ArmConfig]
    """The recipes compared (at least one)."""
    eval: EvalSettings = field(default_factory=EvalSettings)
    quick: QuickSettings = field(default_factory=QuickSettings)

    def __post_init__(self) -> None:
        names = [arm.name for arm in self.arms]
        if not names:
            raise HarmlabError(f"experiment {self.id} has no arms")
        if len(set(names)) != len(names):
            raise HarmlabError(f"experiment {self.id} has two arms with the same name")


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """An experiment from its YAML file, validated (unknown keys name the valid ones)."""
    return load_config(ExperimentConfig, path, overrides or [])


def shipped_experiments() -> list[ExperimentConfig]:
    """Every experiment shipped with harmlab, in id order."""
    experiments = [load_experiment(path) for path in sorted(CONFIG_DIR.glob("*.yaml"))]
    return sorted(experiments, key=lambda e: e.id)


def select(experiments: list[ExperimentConfig], only: str | None) -> list[ExperimentConfig]:
    """The experiments named in a comma-separated `--only` list (all when None)."""
    if not only:
        return experiments
    wanted = [part.strip().upper() for part in only.split(",") if part.strip()]
    known = {e.id.upper(): e for e in experiments}
    missing = [w for w in wanted if w not in known]
    if missing:
        raise HarmlabError(f"unknown experiment {missing[0]}; known: {', '.join(sorted(known))}")
    return [known[w] for w in wanted]
