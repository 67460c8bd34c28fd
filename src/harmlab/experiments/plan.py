"""From experiments and seeds to the ordered list of stages that produce them, shared ones once.

    harmlab reproduce --quick       # prints 'stage i/N' as it walks this plan

Each arm of each experiment becomes a chain of stages per seed: [sft] -> [grpo] -> eval. Two
arms (even of different experiments) that ask for the same training config, overrides and seed
produce the same stage key, so the cold-start SFT that E2, E3 and E4 all start from runs once.
A stage's config holds the training file's *text*, not its path, so editing a config file
invalidates exactly the stages built from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import harmlab
from harmlab import HarmlabError
from harmlab.experiments.spec import ArmConfig, ExperimentConfig
from harmlab.experiments.stages import Stage

StageKind = Literal["sft", "grpo", "eval"]
EVAL_RULE = "keyword-blocklist:completion"
"""The rule behind every stage's gamed rate: the training configs' keyword_blocklist reward,
which reads the whole completion (reasoning and answer), so gamed means the same in training
probes and in the final evaluation."""


@dataclass(frozen=True)
class PlannedStage:
    """A stage and what it is for."""

    stage: Stage
    kind: StageKind
    config_file: Path | None
    """The training config the stage runs (None for eval stages)."""
    overrides: tuple[str, ...]
    """Overrides on top of the config file, quick-mode ones included."""


@dataclass(frozen=True)
class ArmRun:
    """Where one arm's result for one seed comes from."""

    experiment: str
    arm: str
    seed: int
    training: tuple[Stage, ...]
    """The arm's training stages in order (empty for the base model)."""
    eval: Stage


def training_config_path(name: str) -> Path:
    """A training config given as a path, or by name from ./configs or the repository's configs."""
    candidates = [Path(name), Path("configs") / f"{name}.yaml"]
    repository = Path(harmlab.__file__).resolve().parents[2] / "configs"
    candidates.append(repository / f"{name}.yaml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise HarmlabError(f"training config '{name}' not found (looked in ./configs and {repository})")


def plan_arm(
    experiment: ExperimentConfig, arm: ArmConfig, seed: int, quick: bool, base_key: str
) -> tuple[list[PlannedStage], ArmRun]:
    """The stages of one arm for one seed, ending with its evaluation."""
    planned: list[PlannedStage] = []
    upstream: tuple[Stage, ...] = ()
    steps: tuple[tuple[StageKind, str | None, list[str], list[str]], ...] = (
        ("sft", arm.sft, arm.sft_overrides, experiment.quick.sft_overrides),
        ("grpo", arm.grpo, arm.grpo_overrides, experiment.quick.grpo_overrides),
    )
    for kind, name, overrides, quick_overrides in steps:
        if name is None:
            continue
        path = training_config_path(name)
        every = tuple(overrides) + (tuple(quick_overrides) if quick else ())
        config = {"file": path.read_text(encoding="utf-8"), "overrides": list(every)}
        stage = Stage(kind, config, seed=seed, inputs=upstream[-1:])
        planned.append(PlannedStage(stage, kind, path, every))
        upstream = (*upstream, stage)
    eval_config = {"settings": asdict(experiment.eval), "base": base_key, "rule": EVAL_RULE}
    evaluation = Stage("eval", eval_config, seed=seed, inputs=upstream[-1:])
    planned.append(PlannedStage(evaluation, "eval", None, ()))
    return planned, ArmRun(experiment.id, arm.name, seed, upstream, evaluation)


def plan(
    experiments: list[ExperimentConfig], seeds: int, quick: bool, base_key: str
) -> tuple[list[PlannedStage], list[ArmRun]]:
    """Every stage the experiments need, each once and after the stages it reads from."""
    if seeds < 1:
        raise HarmlabError("--seeds must be at least 1")
    stages: dict[str, PlannedStage] = {}
    runs: list[ArmRun] = []
    for seed in range(seeds):
        for experiment in experiments:
            for arm in experiment.arms:
                planned, run = plan_arm(experiment, arm, seed, quick, base_key)
                for item in planned:
                    stages.setdefault(item.stage.key, item)
                runs.append(run)
    return list(stages.values()), runs
