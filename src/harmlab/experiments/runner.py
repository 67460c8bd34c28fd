"""`harmlab reproduce`: pretrain, train every arm, evaluate it, and write the report.

    harmlab reproduce --quick                  # 1 seed, each experiment's quick overrides
    harmlab reproduce --only E1,E3 --seeds 3   # full recipe, intervals across 3 seeds
    harmlab reproduce --jobs 2                 # two stages at a time, one process each
    harmlab reproduce --plan                   # what would run or be reused; runs nothing
    harmlab reproduce --world-seeds 3          # every experiment in 3 worlds, 3 base models
    harmlab reproduce --held-out-category fraud   # another category held out of SFT and RL

Each planned stage (see `plan`) runs inside its own folder of the stage store and is reused
when it already completed with the same inputs; a stage killed half-way resumes from its last
checkpoint (training) or its last logged sample (evaluation). Training stages call the same
functions as `harmlab train`, with the start model, output folder and seed set by the plan;
evaluation stages call the same harness as `harmlab eval` on the `world` suite, gold-judged.

With `jobs` above 1, stages whose upstream stages are complete run side by side, each in a
worker process of its own (a tiny model's step does not use two cores well, two stages do).
Every stage is seeded on its own, so at a given `threads` the outputs do not depend on how many
stages run at once. A worker exits when the `reproduce` process that started it dies, so a
killed run never leaves stages training on.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from harmlab import HarmlabError
from harmlab.experiments.plan import (
    ArmRun,
    Foundation,
    PlannedStage,
    experiment_seeds,
    plan,
    stage_users,
)
from harmlab.experiments.spec import ExperimentConfig, select, shipped_experiments
from harmlab.experiments.stages import StageResult, StageStore
from harmlab.experiments.work import MODEL_PATHS, run_stage, world_model


@dataclass(frozen=True)
class ReproduceOptions:
    """What `harmlab reproduce` was asked for."""

    quick: bool = False
    """Apply each experiment's quick overrides (a smaller run of the same recipe)."""
    only: str | None = None
    """Comma-separated experiment ids (None: all)."""
    arms: str | None = None
    """Comma-separated arm names: each selected experiment cut to these arms, with the
    comparisons and plots between them (None: every arm)."""
    seeds: int | None = None
    """Seeds per arm (None: 1 in quick mode, 3 otherwise)."""
    out: Path = Path("runs/reproduce")
    """Where stages and the report are written."""
    world_seed: int = 0
    """The (first) SafetyWorld, and its base model, every experiment runs in."""
    world_seeds: int = 1
    """How many worlds: seeds world_seed, world_seed + 1, ...; each pretrains its own base
    model, and the report gives intervals across worlds as well as across seeds."""
    held_out_category: str | None = None
    """The category held out of SFT and RL in every world (None: the world's default)."""
    rotate_categories: bool = False
    """Leave-one-category-out: each world in turn with every category held out."""
    base: str | None = None
    """Model reference of the base model (None: the embedded tiny model, pretrained if missing)."""
    threads: int | None = None
    """torch CPU threads for every stage (None: the configs' setting, else torch's default).
    Speed only: it is not part of any stage key."""
    jobs: int = 1
    """Stages run at once, each in its own worker process. Speed only, like `threads`."""

    @property
    def seed_count(self) -> int:
        """Seeds per arm of an experiment that asks for no count of its own."""
        return self.seeds if self.seeds is not None else (1 if self.quick else 3)

    def seeds_of(self, experiment: ExperimentConfig) -> int:
        """Seeds per arm of `experiment` (E4 asks for 5 in a full run)."""
        return experiment_seeds(experiment, self.seeds, self.quick)

    @property
    def world_seed_list(self) -> list[int]:
        """The seeds of the worlds, in turn."""
        return list(range(self.world_seed, self.world_seed + self.world_seeds))

    def held_out_categories(self) -> list[str | None]:
        """The held-out category of each world of one seed (None: the world's default)."""
        from harmlab.world.categories import CATEGORY_NAMES

        if self.rotate_categories:
            if self.held_out_category is not None:
                raise HarmlabError(
                    "--rotate-categories holds out each category: drop --held-out-category"
                )
            return list(CATEGORY_NAMES)
        if self.held_out_category is not None and self.held_out_category not in CATEGORY_NAMES:
            raise HarmlabError(
                f"--held-out-category {self.held_out_category!r} is not a category; valid: "
                f"{', '.join(CATEGORY_NAMES)}"
            )
        return [self.held_out_category]

    @property
    def stage_threads(self) -> int | None:
        """Threads per stage: as asked, else the cores shared out between parallel jobs."""
        if self.threads is not None or self.jobs <= 1:
            return self.threads
        return max(1, (os.cpu_count() or 1) // self.jobs)


@dataclass(frozen=True)
class StagePlan:
    """The stages of a `reproduce` call, in order, and where they are stored."""

    experiments: list[ExperimentConfig]
    stages: list[PlannedStage]
    runs: list[ArmRun]
    base_models: dict[int, Path]
    """World seed -> its base model's folder (the embedded model's may not be built yet)."""
    worlds: list[Foundation]
    store: StageStore


@dataclass(frozen=True)
class PlanRow:
    """One line of `harmlab reproduce --plan`."""

    kind: str
    arms: tuple[str, ...]
    """'experiment/arm' labels whose results read the stage."""
    seed: int
    world: str
    """The world's label (`Foundation.label`)."""
    folder: Path
    reused: bool
    """True: complete in the store, so it would be reused; False: it would run."""


@dataclass
class ReproduceResult:
    """What ran: the plan, each stage's result, and where the arm results are."""

    experiments: list[ExperimentConfig]
    runs: list[ArmRun]
    results: dict[str, StageResult] = field(default_factory=dict)
    base_models: dict[int, Path] = field(default_factory=dict)
    """World seed -> its base model's folder."""

    def folder(self, stage_key: str) -> Path:
        return self.results[stage_key].folder


StageHook = Callable[[int, int, PlannedStage], None]
"""Called before each stage with (index, total, stage): the CLI's progress display."""


def make_plan(
    options: ReproduceOptions,
    experiments: list[ExperimentConfig] | None = None,
    build_base: bool = True,
) -> StagePlan:
    """The stages of the selected (by default: shipped) experiments; with `build_base` False
    the embedded base model's key is computed without pretraining it."""
    if options.jobs < 1 or options.seed_count < 1 or options.world_seeds < 1:
        raise HarmlabError("--jobs, --seeds and --world-seeds must be at least 1")
    experiments = select(experiments or shipped_experiments(), options.only, options.arms)
    categories = options.held_out_categories()  # checked before pretraining a base model
    bases = {seed: base_model(options, seed, build_base) for seed in options.world_seed_list}
    worlds = [
        Foundation(bases[seed][1], seed, held_out_category=category)
        for seed in options.world_seed_list
        for category in categories
    ]

    def start_keys(reference: str, world_seed: int) -> str:
        return start_model_key(options, reference, world_seed, build_base)

    stages, runs = plan(experiments, options.seeds, options.quick, worlds, start_keys)
    store = StageStore(options.out / "stages")
    folders = {seed: folder for seed, (folder, _) in bases.items()}
    return StagePlan(experiments, stages, runs, folders, worlds, store)


def plan_rows(stage_plan: StagePlan) -> list[PlanRow]:
    """What `--plan` prints: every stage, who reads it, and whether it would be reused."""
    users = stage_users(stage_plan.runs)
    store = stage_plan.store
    return [
        PlanRow(
            item.kind,
            tuple(users.get(item.stage.key, ())),
            item.stage.seed,
            item.world.label,
            store.folder(item.stage),
            store.is_done(item.stage),
        )
        for item in stage_plan.stages
    ]


def run_stages(
    options: ReproduceOptions,
    on_stage: StageHook | None = None,
    experiments: list[ExperimentConfig] | None = None,
) -> ReproduceResult:
    """Plan and run (or reuse) every stage of the selected (by default: shipped) experiments."""
    stage_plan = make_plan(options, experiments)
    stages, store = stage_plan.stages, stage_plan.store
    outcome = ReproduceResult(
        stage_plan.experiments, stage_plan.runs, base_models=stage_plan.base_models
    )
    if options.jobs == 1:
        for index, item in enumerate(stages):
            if on_stage is not None:
                on_stage(index, len(stages), item)
            start = _start_model(item, outcome)
            outcome.results[item.stage.key] = _run_stored(store, item, start, options)
    else:
        _run_parallel(stages, store, outcome, options, on_stage)
    return outcome


def _run_parallel(
    stages: list[PlannedStage],
    store: StageStore,
    outcome: ReproduceResult,
    options: ReproduceOptions,
    on_stage: StageHook | None,
) -> None:
    """Run stages `options.jobs` at a time, each once every stage it reads from is complete."""
    pending = list(enumerate(stages))
    running: dict[Future[StageResult], str] = {}
    # At most `jobs` stages are ever submitted, so on a failure nothing queued is left to cancel:
    # leaving the block waits for the other running stage (its result is stored), then raises.
    with stage_pool(options.jobs) as pool:
        while pending or running:
            ready = [p for p in pending if _ready(p[1], outcome)]
            # Training first: it unblocks later stages, and evaluations are short.
            for index, item in sorted(ready, key=lambda p: p[1].kind == "eval"):
                reused = store.is_done(item.stage)  # read here: no worker needed
                if len(running) == options.jobs and not reused:
                    continue
                pending.remove((index, item))
                if on_stage is not None:
                    on_stage(index, len(stages), item)
                start = _start_model(item, outcome)
                if reused:
                    outcome.results[item.stage.key] = _run_stored(store, item, start, options)
                else:
                    running[pool.submit(_run_stored, store, item, start, options)] = item.stage.key
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for job in done:
                outcome.results[running.pop(job)] = job.result()  # re-raises a failure


def stage_pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes for stages: spawned (forking a process that ran torch can hang), and
    each one exits when the process that made the pool dies."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        jobs, mp_context=context, initializer=exit_with_parent, initargs=(os.getpid(),)
    )


def exit_with_parent(parent: int, poll_seconds: float = 0.5) -> None:
    """In a worker: end this process as soon as its parent `parent` is gone (a killed parent
    cannot tell its workers; they would otherwise train to the end of their stage)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)  # no cleanup: the stage is incomplete and its marker unwritten, by design

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _ready(item: PlannedStage, outcome: ReproduceResult) -> bool:
    return all(upstream.key in outcome.results for upstream in item.stage.inputs)


def _run_stored(
    store: StageStore, item: PlannedStage, start: str, options: ReproduceOptions
) -> StageResult:
    """One stage, reused or run, through the stage store (also a worker process's job)."""

    def work(folder: Path) -> None:
        run_stage(item, folder, start, options.stage_threads)

    return store.run(item.stage, work)


def base_model(options: ReproduceOptions, world_seed: int, build: bool = True) -> tuple[Path, str]:
    """A world's base model folder and the key it enters stage keys with: the embedded model
    of that world (pretrained first when `build` and missing), else a user model's folder
    (the same in every world)."""
    from harmlab.models.embedded import ensure_tiny_model, tiny_model_folder
    from harmlab.models.resolve import resolve_model_path

    if options.base is None:
        locate = ensure_tiny_model if build else tiny_model_folder
        folder = locate(world_seed)
        return folder, folder.name
    resolved = Path(resolve_model_path(options.base)).resolve()
    return resolved, str(resolved)


def start_model_key(
    options: ReproduceOptions, reference: str, world_seed: int, build: bool = True
) -> str:
    """The key a start or student model enters stage keys with: a world model's cache folder
    name, else the resolved folder of the user's model."""
    from harmlab.models.resolve import resolve_model_path

    if reference == "tiny" and options.base is not None:  # `tiny` means the run's base model
        return base_model(options, world_seed, build)[1]
    folder = world_model(reference, world_seed, build)
    if folder is not None:
        return folder.name
    return str(Path(resolve_model_path(reference)).resolve())


def _start_model(item: PlannedStage, outcome: ReproduceResult) -> str:
    """The model a stage starts from: the upstream stage's model (the last that made one), else
    the chain's start, by default the world's base model."""
    if item.model_from is not None:
        return str(outcome.folder(item.model_from.key) / MODEL_PATHS[item.model_from.name])
    world_seed = item.world.world_seed
    if item.start is None or item.start == "tiny":
        return str(outcome.base_models[world_seed])
    folder = world_model(item.start, world_seed)
    return str(folder) if folder is not None else item.start
