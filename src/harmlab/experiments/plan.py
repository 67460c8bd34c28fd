"""From experiments and seeds to the ordered list of stages that produce them, shared ones once.

    harmlab reproduce --plan        # lists this plan: each stage, its arms, reused or to run
    harmlab reproduce --quick       # prints 'stage i/N' as it walks it
    harmlab reproduce --world-seeds 3 --plan     # the same experiments in 3 worlds
    harmlab reproduce --rotate-categories --plan # one world per held-out category

Each arm of each experiment becomes a chain of stages per seed:
[curate] -> [sft] -> [grpo] -> [distill] -> eval. This plan is the only place that chains
stages: a GRPO stage after an SFT stage starts from that stage's model because the runner sets
its `model`, never because its config names an SFT run. A curation stage samples the chain's
start model and the SFT stage after it trains on what it kept (it makes data, not a model); a
distillation stage takes the chain's model so far as its teacher and hands on its student.
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

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from harmlab import HarmlabError
from harmlab.configs import training_config_path
from harmlab.experiments.spec import ArmConfig, ExperimentConfig
from harmlab.experiments.stages import Stage
from harmlab.world import WORLD_VERSION
from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY

StageKind = Literal["curate", "sft", "grpo", "distill", "eval"]

WORLD_DATA_KEYS = {"curate": "", "sft": "data.", "grpo": "prompts.", "distill": "traces."}
"""Where a stage's config names the world it draws from (`world_seed`, `held_out_category`)."""

MODEL_KINDS = ("sft", "grpo", "distill")
"""Stage kinds that produce a model (a curation stage produces data; an eval, numbers)."""

StartKeys = Callable[[str, int], str]
"""(a start or student model reference, world seed) -> the key it enters stage keys with."""


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
    """The world the stage trains or evaluates in."""
    start: str | None = None
    """The arm's chain start (`ArmConfig.start`; None: the world's base model)."""
    model_from: Stage | None = None
    """The upstream stage whose model this stage starts from (None: the chain's start)."""
    data_from: Stage | None = None
    """The curation stage whose data this SFT stage trains on (None: its config's data)."""


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
    """What the plan itself sets on a stage's config: its world (seed, and held-out category
    when not the default), and for GRPO the rule the monitor's gamed rate uses (the arm's
    evaluation rule, so training probes and evaluation agree)."""
    block = WORLD_DATA_KEYS[kind]
    overrides = [f"{block}world_seed={foundation.world_seed}"]
    if foundation.rotated_category is not None:
        overrides.append(f"{block}held_out_category={foundation.rotated_category}")
    if kind == "grpo":
        overrides.append(f"monitor.rule={rule}")
    return overrides


def arm_steps(
    experiment: ExperimentConfig, arm: ArmConfig
) -> tuple[tuple[StageKind, str | None, list[str], list[str]], ...]:
    """The arm's stages in chain order: (kind, config, the arm's overrides, quick overrides)."""
    quick = experiment.quick
    return (
        ("curate", arm.curate, arm.curate_overrides, quick.curate_overrides),
        ("sft", arm.sft, arm.sft_overrides, quick.sft_overrides),
        ("grpo", arm.grpo, arm.grpo_overrides, quick.grpo_overrides),
        ("distill", arm.distill, arm.distill_overrides, quick.distill_overrides),
    )


def plan_arm(
    experiment: ExperimentConfig,
    arm: ArmConfig,
    seed: int,
    quick: bool,
    foundation: Foundation,
    start_keys: StartKeys | None = None,
) -> tuple[list[PlannedStage], ArmRun]:
    """The stages of one arm for one seed, ending with its evaluation; `start_keys` gives the
    key of a start (or student) model that is not the world's base model."""
    start_key = _start_key(arm.start, foundation, start_keys)
    planned: list[PlannedStage] = []
    rule = arm.rule or experiment.rule
    upstream: tuple[Stage, ...] = ()
    model: Stage | None = None  # the last stage that made a model
    for kind, name, overrides, quick_overrides in arm_steps(experiment, arm):
        if name is None:
            continue
        path = training_config_path(name)
        every = (
            *overrides,
            *(quick_overrides if quick else ()),
            *plan_overrides(kind, rule, foundation),
        )
        text = path.read_text(encoding="utf-8")
        config = _keyed(foundation, start_key, file=text, overrides=list(every))
        if kind == "distill":  # the student is a model the stage starts from: key it
            config["student"] = _student_key(path, every, foundation, start_keys)
        stage = Stage(kind, config, seed=seed, inputs=upstream[-1:])
        data = upstream[-1] if upstream and upstream[-1].name == "curate" else None
        placed = PlannedStage(stage, kind, path, every, foundation, arm.start, model, data)
        planned.append(placed)
        upstream = (*upstream, stage)
        model = stage if kind in MODEL_KINDS else model
    settings = {k: v for k, v in asdict(experiment.eval).items() if v is not None}  # None:
    # a default left unset, absent from the key so that adding a setting keeps older keys
    eval_config = _keyed(foundation, start_key, settings=settings, rule=rule)
    evaluation = Stage("eval", eval_config, seed=seed, inputs=upstream[-1:])
    planned.append(PlannedStage(evaluation, "eval", None, (), foundation, arm.start, model))
    return planned, ArmRun(experiment.id, arm.name, seed, foundation, upstream, evaluation)


def _keyed(foundation: Foundation, start_key: str | None, **config: Any) -> dict[str, Any]:
    """A stage config with the foundation (and another start model) in it, so the stage key
    covers base model and world."""
    world: dict[str, Any] = {"version": foundation.world_version, "seed": foundation.world_seed}
    if foundation.rotated_category is not None:  # absent by default: older keys stay valid
        world["held_out_category"] = foundation.rotated_category
    keyed = {**config, "base": foundation.base_key, "world": world}
    if start_key is not None:  # absent for the base model, likewise
        keyed["start"] = start_key
    return keyed


def experiment_seeds(experiment: ExperimentConfig, seeds: int | None, quick: bool) -> int:
    """Seeds per arm: `--seeds` when given, else 1 in quick mode, else the experiment's own
    count (E4's 5) or 3."""
    if seeds is not None:
        return seeds
    return 1 if quick else (experiment.seeds or 3)


def plan(
    experiments: list[ExperimentConfig],
    seeds: int | None,
    quick: bool,
    foundations: Sequence[Foundation],
    start_keys: StartKeys | None = None,
) -> tuple[list[PlannedStage], list[ArmRun]]:
    """Every stage the experiments need in every world, each once and after the stages it
    reads from (worlds in turn, so one world's stages come together). `seeds` None: each
    experiment's own count (`experiment_seeds`)."""
    if seeds is not None and seeds < 1:
        raise HarmlabError("--seeds must be at least 1")
    if not foundations:
        raise HarmlabError("a plan needs at least one world")
    stages: dict[str, PlannedStage] = {}
    runs: list[ArmRun] = []
    most = max(experiment_seeds(e, seeds, quick) for e in experiments) if experiments else 0
    for foundation in foundations:
        for seed in range(most):
            for experiment in experiments:
                if seed >= experiment_seeds(experiment, seeds, quick):
                    continue
                for arm in experiment.arms:
                    planned, run = plan_arm(experiment, arm, seed, quick, foundation, start_keys)
                    for item in planned:
                        stages.setdefault(item.stage.key, item)
                    runs.append(run)
    return list(stages.values()), runs


def _student_key(
    path: Path, overrides: Sequence[str], foundation: Foundation, start_keys: StartKeys | None
) -> str:
    """The key of a distillation stage's student model (its config's `student`)."""
    from harmlab.config import load_config
    from harmlab.training.config import DistillRunConfig

    student = load_config(DistillRunConfig, path, list(overrides)).student
    return _start_key(student, foundation, start_keys) or foundation.base_key


def _start_key(
    start: str | None, foundation: Foundation, start_keys: StartKeys | None
) -> str | None:
    """The key of an arm's start model, None when it is the world's base model."""
    if start is None or start == "tiny":
        return None
    if start_keys is None:
        raise HarmlabError(f"arm start model '{start}': the plan was given no way to resolve it")
    return start_keys(start, foundation.world_seed)


def stage_users(runs: list[ArmRun]) -> dict[str, list[str]]:
    """Stage key -> the 'experiment/arm' labels whose results read it, in plan order."""
    users: dict[str, list[str]] = {}
    for run in runs:
        for stage in (*run.training, run.eval):
            label = f"{run.experiment}/{run.arm}"
            if label not in users.setdefault(stage.key, []):
                users[stage.key].append(label)
    return users
