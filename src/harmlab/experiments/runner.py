"""`harmlab reproduce`: pretrain, train every arm, evaluate it, and write the report.

    harmlab reproduce --quick                  # 1 seed, each experiment's quick overrides
    harmlab reproduce --only E1,E3 --seeds 3   # full recipe, intervals across 3 seeds
    harmlab reproduce --jobs 2                 # two stages at a time, one process each

Each planned stage (see `plan`) runs inside its own folder of the stage store and is reused
when it already completed with the same inputs; a stage killed half-way resumes from its last
checkpoint (training) or its last logged sample (evaluation). Training stages call the same
functions as `harmlab train`, with the start model, output folder and seed set by the plan;
evaluation stages call the same harness as `harmlab eval` on the `world` suite, gold-judged.

With `jobs` above 1, stages whose upstream stages are complete run side by side, each in a
worker process of its own (a tiny model's step does not use two cores well, two stages do).
Every stage is seeded on its own, so at a given `threads` the outputs do not depend on how many
stages run at once.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.experiments.plan import EVAL_RULE, ArmRun, PlannedStage, plan
from harmlab.experiments.spec import ExperimentConfig, select, shipped_experiments
from harmlab.experiments.stages import StageResult, StageStore

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
    """The SafetyWorld (and its base model) every experiment runs in."""
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
    def stage_threads(self) -> int | None:
        """Threads per stage: as asked, else the cores shared out between parallel jobs."""
        if self.threads is not None or self.jobs <= 1:
            return self.threads
        return max(1, (os.cpu_count() or 1) // self.jobs)


@dataclass
class ReproduceResult:
    """What ran: the plan, each stage's result, and where the arm results are."""

    experiments: list[ExperimentConfig]
    runs: list[ArmRun]
    results: dict[str, StageResult] = field(default_factory=dict)
    base_model: Path = Path()
    world_seed: int = 0

    def folder(self, stage_key: str) -> Path:
        return self.results[stage_key].folder


StageHook = Callable[[int, int, PlannedStage], None]
"""Called before each stage with (index, total, stage): the CLI's progress display."""


def run_stages(
    options: ReproduceOptions,
    on_stage: StageHook | None = None,
    experiments: list[ExperimentConfig] | None = None,
) -> ReproduceResult:
    """Plan and run (or reuse) every stage of the selected (by default: shipped) experiments."""
    if options.jobs < 1 or options.seed_count < 1:  # before pretraining a base model
        raise HarmlabError("--jobs and --seeds must be at least 1")
    experiments = select(experiments or shipped_experiments(), options.only)
    base = _base_model(options)
    stages, runs = plan(experiments, options.seed_count, options.quick, base_key=str(base))
    store = StageStore(options.out / "stages")
    outcome = ReproduceResult(experiments, runs, base_model=base, world_seed=options.world_seed)
    if options.jobs == 1:
        for index, item in enumerate(stages):
            if on_stage is not None:
                on_stage(index, len(stages), item)
            start = _start_model(item, outcome, base)
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
    context = multiprocessing.get_context("spawn")  # forking a process that ran torch can hang
    # At most `jobs` stages are ever submitted, so on a failure nothing queued is left to cancel:
    # leaving the block waits for the other running stage (its result is stored), then raises.
    with ProcessPoolExecutor(options.jobs, mp_context=context) as pool:
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
                start = _start_model(item, outcome, outcome.base_model)
                if reused:
                    outcome.results[item.stage.key] = _run_stored(store, item, start, options)
                else:
                    running[pool.submit(_run_stored, store, item, start, options)] = item.stage.key
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for job in done:
                outcome.results[running.pop(job)] = job.result()  # re-raises a failure


def _ready(item: PlannedStage, outcome: ReproduceResult) -> bool:
    return all(upstream.key in outcome.results for upstream in item.stage.inputs)


def _run_stored(
    store: StageStore, item: PlannedStage, start: str, options: ReproduceOptions
) -> StageResult:
    """One stage, reused or run, through the stage store (also a worker process's job)."""

    def work(folder: Path) -> None:
        run_stage(item, folder, start, options)

    return store.run(item.stage, work)


def _base_model(options: ReproduceOptions) -> Path:
    """The base model's folder; its name (a content key for `tiny`) enters every stage key."""
    import harmlab.models.embedded  # noqa: F401  (registers 'tiny')
    from harmlab.models.embedded import ensure_tiny_model
    from harmlab.models.resolve import resolve_model_path

    if options.base is None:
        return ensure_tiny_model(options.world_seed)
    return Path(resolve_model_path(options.base)).resolve()


def _start_model(item: PlannedStage, outcome: ReproduceResult, base: Path) -> str:
    """The model a stage starts from: the upstream training stage's final model, or the base."""
    if not item.stage.inputs:
        return str(base)
    return str(outcome.folder(item.stage.inputs[-1].key) / "run" / "final")


def run_stage(item: PlannedStage, folder: Path, start: str, options: ReproduceOptions) -> None:
    """Do one stage's work inside its folder (resuming what an interrupted attempt left)."""
    from harmlab.models.folders import quiet_hf_progress

    with quiet_hf_progress():
        if item.kind == "eval":
            _evaluate(item, folder, start, options)
        else:
            _train(item, folder, start, options.stage_threads)


def _train(item: PlannedStage, folder: Path, start: str, threads: int | None) -> None:
    from harmlab.config import load_config
    from harmlab.training.config import GRPORunConfig, SFTRunConfig
    from harmlab.training.grpo import train_grpo
    from harmlab.training.sft import train_sft

    run = folder / STAGE_FOLDERS[item.kind]
    resume = (run / "config.yaml").is_file()
    placed = [f"model={start}", f"output_dir={run}", f"seed={item.stage.seed}"]
    if threads is not None:
        placed.append(f"threads={threads}")
    if item.kind == "sft":
        sft = load_config(SFTRunConfig, item.config_file, [*item.overrides, *placed])
        train_sft(sft, resume=resume)
    else:
        grpo = load_config(GRPORunConfig, item.config_file, [*item.overrides, *placed, "sft=null"])
        train_grpo(grpo, resume=resume)


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
        world_seed=options.world_seed,
        rule=EVAL_RULE,
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
