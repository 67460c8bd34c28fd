"""`harmlab reproduce`: the paper's experiments end to end, cached by stage, into one report.

    harmlab reproduce --quick --jobs 2      # run (or reuse) every stage, write the report
    harmlab reproduce --plan                # list the stages and which would run; run nothing
    harmlab reproduce --world-seeds 3       # in 3 worlds (3 base models), intervals across worlds
    harmlab reproduce --rotate-categories   # leave-one-category-out: every category held out

The work is in `harmlab.experiments`; this module parses options and prints progress.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harmlab.cli.common import console

if TYPE_CHECKING:
    from harmlab.experiments.plan import Foundation
    from harmlab.experiments.runner import ReproduceOptions, ReproduceResult, StagePlan


def register(app: typer.Typer) -> None:
    """Add this module's command to the top-level app."""
    app.command()(reproduce)


QuickOption = Annotated[
    bool, typer.Option("--quick", help="Each experiment's smaller run of the same recipe.")
]
OnlyOption = Annotated[str | None, typer.Option(help="Comma-separated experiment ids, e.g. E1,E3.")]
ArmsOption = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated arm names, e.g. base,rl-control,rl-blocklist: only these "
        "arms, with the comparisons and plots between them."
    ),
]
SeedsOption = Annotated[
    int | None, typer.Option(min=1, help="Seeds per arm (default: 1 with --quick, else 3).")
]
OutOption = Annotated[Path, typer.Option(help="Folder for stages and the report.")]
WorldSeedOption = Annotated[
    int, typer.Option(min=0, help="The SafetyWorld every arm runs in (the first of them).")
]
WorldSeedsOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="Worlds: seeds --world-seed, +1, ...; each pretrains its own base model, and "
        "the report gives intervals across worlds.",
    ),
]
HeldOutCategoryOption = Annotated[
    str | None,
    typer.Option(help="The category held out of SFT and RL (default: the world's)."),
]
RotateCategoriesOption = Annotated[
    bool,
    typer.Option(
        "--rotate-categories",
        help="Leave-one-category-out: run every world with each category held out in turn.",
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(min=1, help="torch CPU threads per stage (default: cores / jobs)."),
]
JobsOption = Annotated[
    int, typer.Option(min=1, help="Stages run at once, each in its own process.")
]
PlanOption = Annotated[
    bool,
    typer.Option(
        "--plan",
        help="List every stage (kind, arms, seed, folder) and whether it would be reused or "
        "run; run nothing, pretrain nothing.",
    ),
]


def reproduce(
    quick: QuickOption = False,
    only: OnlyOption = None,
    arms: ArmsOption = None,
    seeds: SeedsOption = None,
    out: OutOption = Path("runs/reproduce"),
    world_seed: WorldSeedOption = 0,
    world_seeds: WorldSeedsOption = 1,
    held_out_category: HeldOutCategoryOption = None,
    rotate_categories: RotateCategoriesOption = False,
    threads: ThreadsOption = None,
    jobs: JobsOption = 1,
    show_plan: PlanOption = False,
) -> None:
    """Run (or reuse) every stage of the selected experiments and write the report."""
    from harmlab.experiments.runner import ReproduceOptions, make_plan

    options = ReproduceOptions(
        quick,
        only,
        seeds=seeds,
        out=out,
        world_seed=world_seed,
        arms=arms,
        world_seeds=world_seeds,
        held_out_category=held_out_category,
        rotate_categories=rotate_categories,
        threads=threads,
        jobs=jobs,
    )
    if show_plan:
        _print_plan(make_plan(options, build_base=False))
        return
    _run_and_report(options)


def _run_and_report(options: ReproduceOptions) -> None:
    """Run (or reuse) every stage, announcing each, then write the report and say where."""
    from harmlab.experiments.plan import PlannedStage
    from harmlab.experiments.report import build_report
    from harmlab.experiments.runner import run_stages
    from harmlab.report import write_report

    start = time.perf_counter()

    def announce(index: int, total: int, item: PlannedStage) -> None:
        verb = "stage" if options.jobs == 1 else "starting stage"
        console.rule(f"{verb} {index + 1}/{total} · {item.stage.folder_name}", style="cyan")

    outcome = run_stages(options, on_stage=announce)
    reused = sum(result.reused for result in outcome.results.values())
    seconds = time.perf_counter() - start
    provenance = _provenance(options, outcome, reused, seconds)
    html = write_report(build_report(outcome, provenance), options.out / "report")
    console.print(f"{len(outcome.results)} stages ({reused} reused) in {seconds:.0f} s")
    console.print(f"report: {html}  (summary: {html.with_name('report.md')})")


def _provenance(
    options: ReproduceOptions, outcome: ReproduceResult, reused: int, seconds: float
) -> dict[str, str]:
    """The report's provenance lines: command, worlds, stages, times, base models, versions."""
    from harmlab.training.rundir import git_commit, package_versions

    return {
        "command": _command(options),
        "seeds per arm": _seeds_line(options, outcome),
        "worlds": ", ".join(world.label for world in _worlds(outcome)),
        "stages": f"{len(outcome.results)} ({reused} reused from earlier runs)",
        "wall time of this call": f"{seconds:.0f} s",
        "stage time": f"{sum(r.seconds for r in outcome.results.values()):.0f} s, summed over "
        "stages as they ran (reused ones included)",
        "base model": ", ".join(
            f"{folder.name} (world {seed})" for seed, folder in outcome.base_models.items()
        ),
        "git commit": git_commit() or "unknown",
        "versions": ", ".join(f"{k} {v}" for k, v in package_versions().items() if v),
    }


def _seeds_line(options: ReproduceOptions, outcome: ReproduceResult) -> str:
    """`3`, or `3 (E4: 5)` where an experiment asks for its own count."""
    counts = {e.id: options.seeds_of(e) for e in outcome.experiments}
    own = [f"{name}: {n}" for name, n in counts.items() if n != options.seed_count]
    return f"{options.seed_count}" + (f" ({', '.join(own)})" if own else "")


def _command(options: ReproduceOptions) -> str:
    parts = ["harmlab reproduce"]
    if options.quick:
        parts.append("--quick")
    if options.only:
        parts.append(f"--only {options.only}")
    if options.arms:
        parts.append(f"--arms {options.arms}")
    if options.seeds is not None:
        parts.append(f"--seeds {options.seeds}")
    if options.world_seed:
        parts.append(f"--world-seed {options.world_seed}")
    if options.world_seeds > 1:
        parts.append(f"--world-seeds {options.world_seeds}")
    if options.held_out_category:
        parts.append(f"--held-out-category {options.held_out_category}")
    if options.rotate_categories:
        parts.append("--rotate-categories")
    return " ".join(parts)


def _worlds(outcome: ReproduceResult) -> list[Foundation]:
    return list({run.world.label: run.world for run in outcome.runs}.values())


def _print_plan(stage_plan: StagePlan) -> None:
    """The worlds with their base models, then one line per stage (never wrapped, so it
    greps): status, kind, world, seed, the experiment/arm labels that read it, folder."""
    from harmlab.experiments.runner import plan_rows
    from harmlab.models.folders import is_complete_model_folder

    for world in stage_plan.worlds:
        folder = stage_plan.base_models[world.world_seed]
        built = "cached" if is_complete_model_folder(folder) else "to pretrain"
        console.print(f"{world.label}: base model {folder} ({built})", markup=False, soft_wrap=True)
    rows = plan_rows(stage_plan)
    for index, row in enumerate(rows, start=1):
        status = "reuse" if row.reused else "run"
        console.print(
            f"{index:>3}  {status:<5}  {row.kind:<4}  {row.world}  seed {row.seed}  "
            f"{', '.join(row.arms)}  {row.folder}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    to_run = sum(not row.reused for row in rows)
    console.print(f"{len(rows)} stages: {to_run} to run, {len(rows) - to_run} reused")
