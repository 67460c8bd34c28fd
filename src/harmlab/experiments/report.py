"""Turn reproduced experiments into the report: headline, one section per experiment, transcripts.

    harmlab reproduce --quick       # writes runs/reproduce/report/report.html and report.md

A section is generated from its experiment's YAML alone: the question, a table of the arms on
the YAML's `metrics`, one sentence per entry of `comparisons` (a paired difference worded by
the rule in `comparisons.py`), then each entry of `plots` drawn by its plot kind
(`figures.py`) with the finding it states. Nothing here is keyed by experiment id, so a new
YAML gets a full section. Every sentence is computed from the numbers beside it, including the
sentence that says a phenomenon the paper describes did *not* appear in this run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harmlab.experiments.comparisons import compare_arms, state_difference
from harmlab.experiments.figures import PLOT_KINDS
from harmlab.experiments.hacks import gamed_rows
from harmlab.experiments.results import (
    COLUMN_LABELS,
    HEADLINE,
    METRIC_LABELS,
    ArmResult,
    arm_results,
    headline_arms,
)
from harmlab.experiments.runner import ReproduceResult
from harmlab.experiments.spec import ExperimentConfig
from harmlab.report import Report, Section, Table, Transcript

Results = dict[tuple[str, str], ArmResult]
TRANSCRIPTS_PER_KIND = 6


def build_report(outcome: ReproduceResult, provenance: dict[str, str]) -> Report:
    """The whole report of a `harmlab reproduce` run."""
    results = arm_results(outcome)
    headline = Table(
        tuple(COLUMN_LABELS[key] for key in HEADLINE),
        {r.arm: r.row(HEADLINE) for r in headline_arms(results)},
        caption=_interval_note(outcome),
    )
    sections = [
        experiment_section(experiment, [results[(experiment.id, a.name)] for a in experiment.arms])
        for experiment in outcome.experiments
    ]
    return Report(
        "harmlab · reproducing arXiv 2501.17030",
        headline,
        sections,
        _transcripts(results),
        provenance,
    )


def _interval_note(outcome: ReproduceResult) -> str:
    seeds = len({run.seed for run in outcome.runs})
    if seeds == 1:
        return "one seed: intervals are 95% bootstrap intervals over evaluation samples"
    return f"{seeds} seeds: mean and 95% Student-t interval across seeds"


def experiment_section(experiment: ExperimentConfig, arms: Sequence[ArmResult]) -> Section:
    """An experiment's section, from its YAML: question, comparisons, plots, table."""
    by_name = {arm.arm: arm for arm in arms}
    paragraphs = [experiment.question]
    for comparison in experiment.comparisons:
        a, b = by_name[comparison.a], by_name[comparison.b]
        difference = compare_arms(a, b, comparison.metric)
        label = METRIC_LABELS[comparison.metric]
        paragraphs.append(state_difference(a.arm, b.arm, label, difference))
    figures = []
    for plot in experiment.plots:
        texts, drawn = PLOT_KINDS.get(plot.kind)(plot, arms)
        paragraphs += texts
        figures += drawn
    columns = tuple(COLUMN_LABELS[key] for key in experiment.metrics)
    table = Table(columns, {arm.arm: arm.row(experiment.metrics) for arm in arms})
    return Section(experiment.title, tuple(paragraphs), tuple(figures), (table,))


def _transcripts(results: Results) -> list[Transcript]:
    """Gamed samples of trained arms grouped by hack kind, a few per kind and arm (an arm
    several experiments share is shown once, under the first)."""
    out: list[Transcript] = []
    seen: set[Path] = set()
    for (experiment, arm), result in results.items():
        if not result.seeds[0].training or result.seeds[0].eval_folder in seen:
            continue
        seen.add(result.seeds[0].eval_folder)
        per_kind: dict[str, int] = {}
        for row, kinds in gamed_rows(result.seeds[0].samples, result.world_seed):
            kind = kinds[0]
            if per_kind.get(kind, 0) >= TRANSCRIPTS_PER_KIND:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            out.append(
                Transcript(
                    f"{experiment} {arm}",
                    row["prompt"],
                    row["think"],
                    row["answer"],
                    "gamed",
                    ", ".join(kinds),
                )
            )
    return out
