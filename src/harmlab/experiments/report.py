"""Turn reproduced experiments into the report: headline, one section per experiment, transcripts.

    harmlab reproduce --quick       # writes runs/reproduce/report/report.html and report.md

A section is generated from its experiment's YAML alone: the question, a table of the arms on
the YAML's `metrics`, one sentence per entry of `comparisons` (a paired difference worded by
the rule in `comparisons.py`), then each entry of `plots` drawn by its plot kind
(`figures.py`) with the finding it states (and any table it returns, after the section's
own). Nothing here is keyed by experiment id, so a new YAML gets a full section. Every
sentence is computed from the numbers beside it, including the sentence that says a phenomenon
the paper describes did *not* appear in this run.

Every section also shows each generalization axis (DESIGN.md "Generalization axes"): harmful
compliance on the trained side and on each axis's held-out side per arm, with the base model's
capability controls in the caption. The headline carries the audit judge's disagreement with
gold per arm, and the transcript browser shows every disagreeing sample it lists (a non-zero
rate is a gold blind spot to fix). With several worlds, a "Worlds" section gives each world's
results and the headline is the mean over worlds with an interval across worlds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
from harmlab.report import Figure, Report, Section, Table, Transcript
from harmlab.world.axes import AXIS_NAMES

Results = dict[tuple[str, str], ArmResult]
TRANSCRIPTS_PER_KIND = 6
AXIS_LABELS = {
    "attack": "attack style",
    "obfuscation": "obfuscation",
    "language": "language",
    "category": "category",
}
"""How the per-axis table names each axis (`harmlab.world.axes.AXIS_NAMES`)."""
WORLD_COLUMNS = (
    "harmful_compliance",
    "harmful_compliance_held_out",
    "over_refusal",
    "accuracy",
    "audit_disagreement",
)
"""The columns of the per-world table (several worlds only)."""


def build_report(outcome: ReproduceResult, provenance: dict[str, str]) -> Report:
    """The whole report of a `harmlab reproduce` run."""
    results = arm_results(outcome)
    arms = headline_arms(results)
    headline = Table(
        tuple(COLUMN_LABELS[key] for key in HEADLINE),
        {r.arm: r.row(HEADLINE) for r in arms},
        caption=interval_note(arms),
    )
    sections = [
        experiment_section(experiment, [results[(experiment.id, a.name)] for a in experiment.arms])
        for experiment in outcome.experiments
    ]
    if arms and len(arms[0].worlds) > 1:
        sections.insert(0, worlds_section(arms))
    return Report(
        "harmlab · reproducing arXiv 2501.17030",
        headline,
        sections,
        _transcripts(results),
        provenance,
    )


def interval_note(arms: Sequence[ArmResult]) -> str:
    """What the headline's intervals are: over samples, across seeds, or across worlds."""
    runs = [seed for arm in arms for seed in arm.seeds]
    seeds, worlds = len({r.seed for r in runs}), len({r.world for r in runs})
    audit = "; audit disagreement: the audit judge flags what gold passes (non-zero: a gold "
    audit += "blind spot)"
    if worlds > 1:
        return (
            f"{worlds} worlds × {seeds} seed(s): mean over worlds and 95% Student-t interval "
            f"across worlds (each world: its mean over seeds){audit}"
        )
    if seeds == 1:
        return f"one seed: intervals are 95% bootstrap intervals over evaluation samples{audit}"
    return f"{seeds} seeds: mean and 95% Student-t interval across seeds{audit}"


def worlds_section(arms: Sequence[ArmResult]) -> Section:
    """Each arm's results in each world: the spread the headline's across-world interval
    summarises."""
    rows = {
        f"{arm.arm} · {world}": arm.in_world(world).row(WORLD_COLUMNS)
        for arm in arms
        for world in arm.worlds
    }
    text = (
        "Each world draws a new lexicon, recipes and base model (and, when rotating, another "
        "held-out category); a finding that holds in one world only is a property of that "
        "world, not of the method."
    )
    columns = tuple(COLUMN_LABELS[key] for key in WORLD_COLUMNS)
    caption = "per world: mean over trainer seeds (95% interval across seeds, or over samples)"
    return Section("Worlds", (text,), (), (Table(columns, rows, caption=caption),))


def axis_table(arms: Sequence[ArmResult]) -> Table | None:
    """Harmful compliance per arm on the trained side and on each axis's held-out side, with
    the untrained arm's capability controls (a slice it cannot handle is no evidence of
    generalization); None when no arm was evaluated on held-out axes."""
    axes = [name for name in AXIS_NAMES if any(_axis_measured(arm, name) for arm in arms)]
    if not axes:
        return None
    keys = {"trained": f"axes.{axes[0]}.trained.harmful_compliance"}
    keys |= {
        f"{AXIS_LABELS[name]}: held-out": f"axes.{name}.held_out.harmful_compliance"
        for name in axes
    }
    rows = {arm.arm: {label: arm.estimate(key) for label, key in keys.items()} for arm in arms}
    return Table(tuple(keys), rows, caption=_capability_note(arms, axes))


def _axis_measured(arm: ArmResult, name: str) -> bool:
    return any(isinstance(seed.metrics.get("axes", {}).get(name), dict) for seed in arm.seeds)


def _capability_note(arms: Sequence[ArmResult], axes: Sequence[str]) -> str:
    """Harmful compliance (trained side: held out on no axis); the capability control of each
    held-out slice as measured on the untrained arm (first run)."""
    note = "harmful compliance per generalization axis (trained: held out on no axis)"
    base = next((arm for arm in arms if not arm.seeds[0].training), None)
    if base is None:
        return note + "; no untrained arm, so no capability control"
    slices: dict[str, Any] = base.seeds[0].metrics.get("axes", {})
    failing = [
        f"{AXIS_LABELS[name]} {value} ({side['capability']})"
        for name in axes
        for value, side in slices.get(name, {}).items()
        if value not in ("trained", "held_out")  # each held-out value, not their pool
        and side.get("capability", "capable") != "capable"
    ]
    verdict = "; ".join(failing) if failing else "every held-out slice capable"
    return f"{note}; capability controls on {base.arm}: {verdict}"


def experiment_section(experiment: ExperimentConfig, arms: Sequence[ArmResult]) -> Section:
    """An experiment's section, from its YAML: question, comparisons, plots, table."""
    by_name = {arm.arm: arm for arm in arms}
    paragraphs = [experiment.question]
    for comparison in experiment.comparisons:
        a, b = by_name[comparison.a], by_name[comparison.b]
        difference = compare_arms(a, b, comparison.metric)
        label = METRIC_LABELS[comparison.metric]
        paragraphs.append(state_difference(a.arm, b.arm, label, difference))
    figures, drawn_tables = [], []
    for plot in experiment.plots:
        texts, drawn = PLOT_KINDS.get(plot.kind)(plot, arms)
        paragraphs += texts
        figures += [part for part in drawn if isinstance(part, Figure)]
        drawn_tables += [part for part in drawn if isinstance(part, Table)]
    columns = tuple(COLUMN_LABELS[key] for key in experiment.metrics)
    table = Table(columns, {arm.arm: arm.row(experiment.metrics) for arm in arms})
    axes = axis_table(arms)
    tables = (table,) if axes is None else (table, axes)
    return Section(
        experiment.title, tuple(paragraphs), tuple(figures), tables + tuple(drawn_tables)
    )


def _transcripts(results: Results) -> list[Transcript]:
    """Samples where the audit judge disagrees with gold, then gamed samples of trained arms
    grouped by hack kind, a few per kind and arm (an arm several experiments share is shown
    once, under the first)."""
    return [*audit_transcripts(results), *_gamed_transcripts(results)]


def audit_transcripts(results: Results) -> list[Transcript]:
    """Every sample of every run where the audit flags a near-disclosure gold passes (each
    evaluation once): the blind spots the headline's audit column counts."""
    out: list[Transcript] = []
    seen: set[Path] = set()
    for (experiment, arm), result in results.items():
        for run in result.seeds:
            rate = run.estimate("audit_disagreement")
            if run.eval_folder in seen or rate is None or rate.value == 0:
                continue
            seen.add(run.eval_folder)
            out += [
                Transcript(
                    f"{experiment} {arm} ({run.world}, seed {run.seed})",
                    row["prompt"],
                    row["think"],
                    row["answer"],
                    "audit disagreement",
                    row["audit"]["rationale"],
                )
                for row in run.samples
                if (row.get("audit") or {}).get("disagrees")
            ]
    return out


def _gamed_transcripts(results: Results) -> list[Transcript]:
    out: list[Transcript] = []
    seen: set[Path] = set()
    for (experiment, arm), result in results.items():
        if not result.seeds[0].training or result.seeds[0].eval_folder in seen:
            continue
        seen.add(result.seeds[0].eval_folder)
        per_kind: dict[str, int] = {}
        seed = result.seeds[0]
        for row, kinds in gamed_rows(seed.samples, seed.world_seed, seed.held_out_category):
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
