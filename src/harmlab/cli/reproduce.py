"""`harmlab reproduce`: the paper's experiments end to end, cached by stage, into one report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harmlab.cli.common import console

if TYPE_CHECKING:
    from harmlab.experiments.runner import ReproduceOptions


def register(app: typer.Typer) -> None:
    """Add this module's command to the top-level app."""
    app.command()(reproduce)


def reproduce(
    quick: Annotated[
        bool, typer.Option("--quick", help="Each experiment's smaller run of the same recipe.")
    ] = False,
    only: Annotated[
        str | None, typer.Option(help="Comma-separated experiment ids, e.g. E1,E3.")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Seeds per arm (default: 1 with --quick, else 3).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for stages and the report.")] = Path(
        "runs/reproduce"
    ),
    world_seed: Annotated[int, typer.Option(help="The SafetyWorld every arm runs in.")] = 0,
    threads: Annotated[
        int | None,
        typer.Option(help="torch CPU threads per stage (default: cores / jobs)."),
    ] = None,
    jobs: Annotated[int, typer.Option(help="Stages run at once, each in its own process.")] = 1,
) -> None:
    """Run (or reuse) every stage of the selected experiments and write the report."""
    from harmlab.experiments.plan import PlannedStage
    from harmlab.experiments.report import build_report
    from harmlab.experiments.runner import ReproduceOptions, run_stages
    from harmlab.report import write_report
    from harmlab.training.rundir import git_commit, package_versions

    options = ReproduceOptions(quick, only, seeds, out, world_seed, threads=threads, jobs=jobs)
    start = time.perf_counter()

    def announce(index: int, total: int, item: PlannedStage) -> None:
        verb = "stage" if jobs == 1 else "starting stage"
        console.rule(f"{verb} {index + 1}/{total} · {item.stage.folder_name}", style="cyan")

    outcome = run_stages(options, on_stage=announce)
    reused = sum(result.reused for result in outcome.results.values())
    seconds = time.perf_counter() - start
    provenance = {
        "command": _command(options),
        "seeds per arm": str(options.seed_count),
        "stages": f"{len(outcome.results)} ({reused} reused from earlier runs)",
        "wall time of this call": f"{seconds:.0f} s",
        "stage time": f"{sum(r.seconds for r in outcome.results.values()):.0f} s, summed over "
        "stages as they ran (reused ones included)",
        "base model": outcome.base_model.name,
        "git commit": git_commit() or "unknown",
        "versions": ", ".join(f"{k} {v}" for k, v in package_versions().items() if v),
    }
    html = write_report(build_report(outcome, provenance), out / "report")
    console.print(f"{len(outcome.results)} stages ({reused} reused) in {seconds:.0f} s")
    console.print(f"report: {html}  (summary: {html.with_name('report.md')})")


def _command(options: ReproduceOptions) -> str:
    parts = ["harmlab reproduce"]
    if options.quick:
        parts.append("--quick")
    if options.only:
        parts.append(f"--only {options.only}")
    parts.append(f"--seeds {options.seed_count}")
    return " ".join(parts)
