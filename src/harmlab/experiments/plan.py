"""From experiments and seeds to the ordered list of stages that produce them, shared ones once.

    harmlab reproduce --plan        # lists this plan: each stage, its arms, reused or to run
    harmlab reproduce --quick       # prints 'stage i/N' as it walks it
    harmlab reproduce --world-seeds 3 --plan     # the same experiments in 3 worlds
    harmlab reproduce --rotate-categories --plan # one world per held-out category

Each arm of each experiment becomes a chain of stages per seed: [sft] -> [grpo] -> eval. This
plan is the only place that chains stages: a GRPO stage after an SFT stage starts from that
stage's model because the runner sets its `model`, never because its config names an SFT run.
Two arms (even of different experiments) that ask for the same training config, overrides and
seed produce the same stage key, so the cold-start SFT that E2, E3 and E4 all start from runs
once. A stage's config holds the training file's *text*, not its path, so editing a config
file invalidates exactly the stages built from it; and every stage's config holds the
`Foundation` (base model key, world version, seed and held-out category), so another base
model or world never reuses a stage trained or measured on the old one.

A plan may span several worlds (one `Foundation` each): every arm and seed is planned in each,
and each world brings its own base model (a world seed draws a new lexicon, recipes and
pretraining corpus; rotating the held-out category keeps the corpus, so the base model too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from harmlab import HarmlabError
from harmlab.configs import training_config_path
from harmlab.experiments.spec import ArmConfig, ExperimentConfig
from harmlab.experiments.stages import Stage
from harmlab.world import WORLD_VERSION
from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY

StageKind = Literal["sft", "grpo", "eval"]

WORLD_DATA_KEYS = {"sft": "data", "grpo": "prompts"}
"""The training config block (`WorldData`) that picks the world a training stage draws from."""


@dataclass(frozen=True)
class Foundation:
    """What every stage is built on; part of every stage's key."""

    base_key: str
    """The base model's cache key (`tiny-<content key>`), or its folder for a user's model."""
    world_seed: int = 0
    """The SafetyWorld every stage trains on and is evaluated in."""
    world_version: str = WORLD_VERSION
    """SafetyWorld's generator version: a new one draws other prompts from the same seed."""
    held_out_category: str | None = None
    """The category held out of SFT and RL (None: the world's default one)."""

    @property
    def rotated_category(self) -> str | None:
        """The held-out category when it is not the world's default (the default one enters
        neither keys nor configs, so naming it reuses the stages of an unnamed run)."""
        category = self.held_out_category
        return None if category in (None, DEFAULT_HELD_OUT_CATEGORY) else category

    @property
    def label(self) -> str:
        """How the report and `--plan` name this world: `world 3` or `world 3 · held out
        pathogens`."""
        held_out = f" · held out {self.held_out_category}" if self.held_out_category else ""
        return f"world {self.world_seed}{held_out}"


@dataclass(frozen=True)
class PlannedStage:
    """A stage and what it is for."""

    stage: Stage
    kind: StageKind
    config_file: Path | None
    """The training config the stage runs (None for eval stages)."""
    overrides: tuple[str, ...]
    """Overrides on top of the config file: the arm's, quick mode's, then the plan's own
    (world, monitor rule). The runner adds only the start model, folder and seed."""
    world: Foundation
    """The world the stage trains or evaluates in (its base model is the chain's start)."""


@dataclass(frozen=True)
class ArmRun:
    """Where one arm's result for one seed comes from."""

    experiment: str
    arm: str
    seed: int
    world: Foundation
    """The world (and base model) the arm ran in."""
    training: tuple[Stage, ...]
    """The arm's training stages in order (empty for the base model)."""
    eval: Stage


def plan_overrides(kind: StageKind, rule: str, foundation: Foundation) -> list[str]:
    """What the plan itself sets on a training stage: its world (seed, and held-out category
    when not the default), and for GRPO the rule the monitor's gamed rate uses (the arm's
    evaluation rule, so training probes and evaluation agree)."""
    block = WORLD_DATA_KEYS[kind]
    overrides = [f"{block}.world_seed={foundation.world_seed}"]
    if foundation.rotated_category is not None:
        overrides.append(f"{block}.held_out_category={foundation.rotated_category}")
    if kind == "grpo":
        overrides.append(f"monitor.rule={rule}")
    return overrides


def plan_arm(
    experiment: ExperimentConfig, arm: ArmConfig, seed: int, quick: bool, foundation: Foundation
) -> tuple[list[PlannedStage], ArmRun]:
    """The stages of one arm for one seed, ending with its evaluation."""
    planned: list[PlannedStage] = []
    rule = arm.rule or experiment.rule
    upstream: tuple[Stage, ...] = ()
    steps: tuple[tuple[StageKind, str | None, list[str], list[str]], ...] = (
        ("sft", arm.sft, arm.sft_overrides, experiment.quick.sft_overrides),
        ("grpo", arm.grpo, arm.grpo_overrides, experiment.quick.grpo_overrides),
    )
    for kind, name, overrides, quick_overrides in steps:
        if name is None:
            continue
        path = training_config_path(name)
        every = (
            *overrides,
            *(quick_overrides if quick else ()),
            *plan_overrides(kind, rule, foundation),
        )
        config = _keyed(foundation, file=path.read_text(encoding="utf-8"), overrides=list(every))
        stage = Stage(kind, config, seed=seed, inputs=upstream[-1:])
        planned.append(PlannedStage(stage, kind, path, every, foundation))
        upstream = (*upstream, stage)
    eval_config = _keyed(foundation, settings=asdict(experiment.eval), rule=rule)
    evaluation = Stage("eval", eval_config, seed=seed, inputs=upstream[-1:])
    planned.append(PlannedStage(evaluation, "eval", None, (), foundation))
    return planned, ArmRun(experiment.id, arm.name, seed, foundation, upstream, evaluation)


def _keyed(foundation: Foundation, **config: Any) -> dict[str, Any]:
    """A stage config with the foundation in it, so the stage key covers base model and world."""
    world: dict[str, Any] = {"version": foundation.world_version, "seed": foundation.world_seed}
    if foundation.rotated_category is not None:  # absent by default: older keys stay valid
        world["held_out_category"] = foundation.rotated_category
    return {**config, "base": foundation.base_key, "world": world}


def plan(
    experiments: list[ExperimentConfig],
    seeds: int,
    quick: bool,
    foundations: Sequence[Foundation],
) -> tuple[list[PlannedStage], list[ArmRun]]:
    """Every stage the experiments need in every world, each once and after the stages it
    reads from (worlds in turn, so one world's stages come together)."""
    if seeds < 1:
        raise HarmlabError("--seeds must be at least 1")
    if not foundations:
        raise HarmlabError("a plan needs at least one world")
    stages: dict[str, PlannedStage] = {}
    runs: list[ArmRun] = []
    for foundation in foundations:
        for seed in range(seeds):
            for experiment in experiments:
                for arm in experiment.arms:
                    planned, run = plan_arm(experiment, arm, seed, quick, foundation)
                    for item in planned:
                        stages.setdefault(item.stage.key, item)
                    runs.append(run)
    return list(stages.values()), runs


def stage_users(runs: list[ArmRun]) -> dict[str, list[str]]:
    """Stage key -> the 'experiment/arm' labels whose results read it, in plan order."""
    users: dict[str, list[str]] = {}
    for run in runs:
        for stage in (*run.training, run.eval):
            label = f"{run.experiment}/{run.arm}"
            if label not in users.setdefault(stage.key, []):
                users[stage.key].append(label)
    return users
