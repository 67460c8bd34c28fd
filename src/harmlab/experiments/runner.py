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
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmlab import HarmlabError
from harmlab.experiments.plan import ArmRun, Foundation, PlannedStage, plan, stage_users
from harmlab.experiments.spec import ExperimentConfig, select, shipped_experiments
from harmlab.experiments.stages import StageResult, StageStore

if TYPE_CHECKING:
    from harmlab.training.config import GRPORunConfig, SFTRunConfig

STAGE_FOLDERS = {"sft": "run", "grpo": "run", "eval": "eval"}


@dataclass(frozen=True)
class ReproduceOptions:
    """What `harmlab reproduce` was asked for."""

    quick: bool = False
    """Apply each experiment's quick overrides (a smaller run of the same recipe)."""
    only: str | None = None
    """Comma-separated experiment ids (None: all)."""
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
        return self.seeds if self.seeds is not None else (1 if self.quick else 3)

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
    experiments = select(experiments or shipped_experiments(), options.only)
    categories = options.held_out_categories()  # checked before pretraining a base model
    bases = {seed: base_model(options, seed, build_base) for seed in options.world_seed_list}
    worlds = [
        Foundation(bases[seed][1], seed, held_out_category=category)
        for seed in options.world_seed_list
        for category in categories
    ]
    stages, runs = plan(experiments, options.seed_count, options.quick, worlds)
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
        run_stage(item, folder, start, options)

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


def _start_model(item: PlannedStage, outcome: ReproduceResult) -> str:
    """The model a stage starts from: the upstream training stage's final model, or the base."""
    if not item.stage.inputs:
        return str(outcome.base_models[item.world.world_seed])
    return str(outcome.folder(item.stage.inputs[-1].key) / "run" / "final")


def run_stage(item: PlannedStage, folder: Path, start: str, options: ReproduceOptions) -> None:
    """Do one stage's work inside its folder (resuming what an interrupted attempt left)."""
    from harmlab.models.folders import quiet_hf_progress

    with quiet_hf_progress():
        if item.kind == "eval":
            _evaluate(item, folder, start, options)
        else:
            _train(item, folder, start, options.stage_threads)


def training_config(
    item: PlannedStage, folder: Path, start: str, threads: int | None
) -> SFTRunConfig | GRPORunConfig:
    """The run config a training stage trains with: its file, its planned overrides, then the
    start model, output folder and seed (and threads, speed only) this call places it at."""
    from harmlab.config import load_config
    from harmlab.training.config import GRPORunConfig, SFTRunConfig

    placed = [f"model={start}", f"output_dir={folder / STAGE_FOLDERS[item.kind]}"]
    placed.append(f"seed={item.stage.seed}")
    if threads is not None:
        placed.append(f"threads={threads}")
    overrides = [*item.overrides, *placed]
    if item.kind == "sft":
        return load_config(SFTRunConfig, item.config_file, overrides)
    return load_config(GRPORunConfig, item.config_file, overrides)


def _train(item: PlannedStage, folder: Path, start: str, threads: int | None) -> None:
    from harmlab.training.config import SFTRunConfig
    from harmlab.training.grpo import train_grpo
    from harmlab.training.sft import train_sft

    config = training_config(item, folder, start, threads)
    resume = (folder / STAGE_FOLDERS[item.kind] / "config.yaml").is_file()
    if isinstance(config, SFTRunConfig):
        train_sft(config, resume=resume)
    else:
        train_grpo(config, resume=resume)


def _evaluate(item: PlannedStage, folder: Path, start: str, options: ReproduceOptions) -> None:
    from harmlab.evaluation.generation import SamplingConfig
    from harmlab.evaluation.harness import EvalConfig, run_eval

    settings: dict[str, Any] = dict(item.stage.config["settings"])
    sampling = SamplingConfig(
        n=settings["samples_per_prompt"],
        temperature=settings["temperature"],
        max_new_tokens=settings["max_new_tokens"],
        seed=item.stage.seed,
    )
    config = EvalConfig(
        model=start,
        suite="world",
        judges=("gold",),
        sampling=sampling,
        world_seed=item.world.world_seed,
        held_out_category=item.world.rotated_category,
        rule=item.stage.config["rule"],
    )
    out = folder / STAGE_FOLDERS["eval"]
    with torch_threads(options.stage_threads):
        run_eval(config, out, resume=(out / "samples.jsonl").is_file())


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with `threads` torch CPU threads (unchanged when None)."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
