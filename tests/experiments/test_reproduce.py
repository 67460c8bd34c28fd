"""End to end on the micro model: every stage runs, the report renders, a rerun reuses all, and
running stages side by side (--jobs 2) gives what running them one by one gave."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from harmlab.experiments.report import build_report
from harmlab.experiments.runner import ReproduceOptions, run_stages
from harmlab.experiments.spec import (
    ArmConfig,
    ComparisonConfig,
    EvalSettings,
    ExperimentConfig,
    PlotConfig,
)
from harmlab.report import write_report

SMALL_MONITOR = ["monitor.every=2", "monitor.probes_per_family=2", "monitor.max_new_tokens=24"]


@pytest.fixture()
def experiments(tmp_path: Path) -> list[ExperimentConfig]:
    sft, grpo = tmp_path / "sft.yaml", tmp_path / "grpo.yaml"
    sft.write_text(
        "threads: 1\ndata: {size: 32}\n"
        "train: {steps: 2, batch_size: 8, max_length: 96, save_every: 2}\n"
    )
    grpo.write_text(
        "threads: 1\nprompts: {size: 16}\n"
        "train: {steps: 2, prompts_per_step: 2, num_generations: 4, "
        "max_completion_length: 24, save_every: 2}\n"
    )
    arms = [
        ArmConfig("base"),
        ArmConfig("sft", sft=str(sft), sft_overrides=SMALL_MONITOR),
        ArmConfig(
            "hybrid",
            sft=str(sft),
            sft_overrides=SMALL_MONITOR,
            grpo=str(grpo),
            grpo_overrides=SMALL_MONITOR,
        ),
    ]
    # one arithmetic task per difficulty: no assertion here reads the benign accuracy's size
    tiny_eval = EvalSettings(max_new_tokens=24, benign_per_difficulty=1)
    drop = [ComparisonConfig("base", "sft", "harmful_compliance")]
    return [
        ExperimentConfig(
            "E1", "hacking", "q1", arms[2:], eval=tiny_eval, plots=[PlotConfig("proxy-vs-gold")]
        ),
        ExperimentConfig(
            "E2",
            "generalization",
            "q2",
            arms,
            eval=tiny_eval,
            comparisons=drop,
            plots=[PlotConfig("comparison-bars")],
        ),
        ExperimentConfig(
            "E5", "cost", "q5", arms, eval=tiny_eval, plots=[PlotConfig("pareto", reference="base")]
        ),
    ]


@pytest.mark.slow
def test_reproduce_runs_every_stage_once_and_reports(
    micro_model: Path, experiments: list[ExperimentConfig], tmp_path: Path
) -> None:
    options = ReproduceOptions(out=tmp_path / "out", base=str(micro_model), seeds=1, threads=1)
    announced: list[int] = []
    first = run_stages(options, lambda i, n, _: announced.append(n), experiments)
    # stages: sft, grpo after sft, and one eval per distinct arm (base, sft, hybrid)
    assert len(first.results) == 5 and announced == [5] * 5
    assert not any(result.reused for result in first.results.values())

    report = build_report(first, {"command": "test"})
    assert list(report.headline.rows) == ["base", "sft", "hybrid"]  # E2 and E5 list all three
    assert report.headline.cell("base", "train FLOPs") == 0.0
    assert report.headline.cell("hybrid", "train FLOPs") > report.headline.cell(
        "sft", "train FLOPs"
    )
    assert [s.title for s in report.sections] == ["hacking", "generalization", "cost"]
    # every evaluation is audited: the headline carries the audit's disagreement with gold
    assert all(report.headline.cell(arm, "audit disagreement") for arm in report.headline.rows)
    assert {run.world.label for run in first.runs} == {"world 0"}
    stated = report.sections[1].paragraphs[1]  # the YAML's comparison, worded by the rule
    assert re.match(r"sft (has (higher|lower) .* than base|vs base, .*: no detectable)", stated)
    html = write_report(report, tmp_path / "report").read_text()
    assert html.count("data:image/png;base64,") == 3  # E1 curves, E2 bars, E5 Pareto

    again = run_stages(options, None, experiments)
    assert all(result.reused for result in again.results.values())

    side_by_side = replace(options, out=tmp_path / "parallel", jobs=2)
    parallel = run_stages(side_by_side, None, experiments)
    assert parallel.results.keys() == first.results.keys()
    for key, result in first.results.items():
        assert not parallel.results[key].reused
        assert completions(parallel.results[key].folder) == completions(result.folder)
    assert all(r.reused for r in run_stages(side_by_side, None, experiments).results.values())


def completions(stage_folder: Path) -> list[str]:
    """What a stage's model wrote: its evaluation samples, or its training steps' loss and
    gradient norm (never empty, so two stages cannot agree by both having nothing)."""
    samples = stage_folder / "eval" / "samples.jsonl"
    if samples.is_file():
        written = [json.loads(line)["completion"] for line in samples.read_text().splitlines()]
    else:
        lines = (stage_folder / "run" / "metrics.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        written = [f"{r['step']} {r['loss']} {r['grad_norm']}" for r in records if "loss" in r]
    assert written, f"{stage_folder} recorded nothing"
    return written
