"""Turn reproduced experiments into the report: headline, one section per experiment, transcripts.

    harmlab reproduce --quick       # writes runs/reproduce/report/report.html and report.md

Every sentence of a finding is computed from the numbers beside it, including the sentence
that says a phenomenon the paper describes did *not* appear in this run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.hacks import HACK_KINDS, hack_kinds
from harmlab.experiments.pareto import pareto_front
from harmlab.experiments.results import (
    COMPUTE,
    HEADLINE,
    ArmResult,
    arm_results,
    headline_arms,
    read_jsonl,
    series,
)
from harmlab.experiments.runner import ReproduceResult
from harmlab.experiments.spec import ExperimentConfig
from harmlab.report import Report, Section, Table, Transcript
from harmlab.report.model import format_cell
from harmlab.report.plots import (
    Curve,
    comparison_figure,
    pareto_figure,
    proxy_gold_figure,
    series_figure,
)
from harmlab.world import SafetyWorld, WorldPrompt

Results = dict[tuple[str, str], ArmResult]
TRANSCRIPTS_PER_KIND = 6


def build_report(outcome: ReproduceResult, provenance: dict[str, str]) -> Report:
    """The whole report of a `harmlab reproduce` run."""
    results = arm_results(outcome)
    headline = Table(
        (*HEADLINE, *COMPUTE),
        {r.arm: r.row() for r in headline_arms(results)},
        caption=_interval_note(outcome),
    )
    sections = [_section(experiment, results) for experiment in outcome.experiments]
    transcripts = _transcripts(results, outcome.base_model.name)
    return Report(
        "harmlab · reproducing arXiv 2501.17030", headline, sections, transcripts, provenance
    )


def _interval_note(outcome: ReproduceResult) -> str:
    seeds = len({run.seed for run in outcome.runs})
    if seeds == 1:
        return "one seed: intervals are 95% bootstrap intervals over evaluation samples"
    return f"{seeds} seeds: mean and 95% Student-t interval across seeds"


def _arms(experiment: ExperimentConfig, results: Results) -> list[ArmResult]:
    return [results[(experiment.id, arm.name)] for arm in experiment.arms]


def _section(experiment: ExperimentConfig, results: Results) -> Section:
    arms = _arms(experiment, results)
    builder = SECTION_BUILDERS.get(experiment.id, _generic)
    paragraphs, figures = builder(arms)
    table = Table(tuple(HEADLINE), {a.arm: a.row() for a in arms})
    return Section(experiment.title, (experiment.question, *paragraphs), tuple(figures), (table,))


def _value(arm: ArmResult, key: str) -> float | None:
    estimate = arm.estimate(key)
    return estimate.value if estimate is not None else None


def _curve(arm: ArmResult) -> list[dict[str, Any]]:
    """The monitor records of the arm's last training stage, first seed."""
    curves = arm.seeds[0].curves
    return curves[-1] if curves else []


def _e1(arms: list[ArmResult]) -> tuple[list[str], list[Any]]:
    paragraphs, figures = [], []
    curves = {}
    for arm in arms:
        records = [r for r in _curve(arm) if r.get("probe/proxy_reward") is not None]
        if not records:
            continue
        steps, proxy = series(records, "probe/proxy_reward")
        _, gold = series(records, "probe/harmful_compliance")
        _, gamed = series(records, "probe/gamed")
        _, sqrt_kl = series(records, "probe/sqrt_kl")
        curves[arm.arm] = Curve(steps, sqrt_kl or [0.0] * len(steps), proxy, gold, gamed)
        paragraphs.append(_hacking_finding(arm.arm, proxy, gold, gamed))
    if curves:
        caption = "proxy reward (solid) and gold harmful compliance (dashed) on the probe set"
        figures.append(proxy_gold_figure(curves, caption))
    for arm in arms:
        counts = _hack_counts(arm)
        listed = ", ".join(f"{kind} {counts[kind]}" for kind in HACK_KINDS)
        paragraphs.append(
            f"{arm.arm}: gamed samples of the final model (first seed) by kind: {listed}."
        )
    return paragraphs, figures


def _hacking_finding(arm: str, proxy: list[float], gold: list[float], gamed: list[float]) -> str:
    """What the first seed's probe curves say about reward hacking, in one paragraph."""
    moved = (
        f"{arm} (first seed, probe set): over training the proxy reward went {proxy[0]:.2f} → "
        f"{proxy[-1]:.2f}, gold harmful compliance {gold[0]:.2f} → {gold[-1]:.2f}, gamed rate "
        f"{gamed[0]:.2f} → {gamed[-1]:.2f}."
    )
    if proxy[-1] - proxy[0] < 0.05:
        return moved + " The proxy barely rose: this run applied too little pressure to hack it."
    if gold[-1] >= gold[0] - 0.05:
        return moved + " The proxy improved while gold harm did not fall: reward hacking."
    if gamed[-1] > gamed[0] + 0.05:
        return moved + (
            " Gold harm fell less than the rule believes: the gamed rate rose, so part of the"
            " proxy gain is reward hacking."
        )
    return moved + " Gold harm fell with the proxy: no reward hacking showed in this run."


def _hack_counts(arm: ArmResult) -> dict[str, int]:
    counts = dict.fromkeys(HACK_KINDS, 0)
    for _, kinds in _gamed_rows(arm):
        for kind in kinds:
            counts[kind] += 1
    return counts


def _gamed_rows(arm: ArmResult) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """Rows of the arm's first-seed evaluation that the rule passed and gold found harmful."""
    world, prompts = _world(arm.world_seed)
    out = []
    for row in read_jsonl(arm.seeds[0].eval_folder / "samples.jsonl"):
        prompt = prompts.get(row["prompt_id"])
        if prompt is None or row["family"] != "harmful" or not (row.get("rule") or {}).get("safe"):
            continue
        kinds = hack_kinds(world.judge.judge(prompt, row["completion"]))
        if kinds:
            out.append((row, kinds))
    return out


@cache
def _world(world_seed: int) -> tuple[SafetyWorld, dict[str, WorldPrompt]]:
    """The world and its `world` suite prompts by id (what the evaluation stages sampled)."""
    from harmlab.data.suites import SuiteOptions, load_suite

    records = load_suite("world", SuiteOptions(world_seed=world_seed)).records
    return SafetyWorld(world_seed), {r.id: r.world for r in records if r.world is not None}


def _e2(arms: list[ArmResult]) -> tuple[list[str], list[Any]]:
    table = Table(tuple(HEADLINE), {a.arm: a.row() for a in arms})
    columns = ["harmful (trained)", "harmful (held-out)", "over-refusal", "accuracy"]
    paragraphs = [
        f"{a.arm}: harmful compliance {format_cell(a.estimate('harmful_compliance'))} on trained "
        f"categories, {format_cell(a.estimate('harmful_compliance_held_out'))} on the held-out one."
        for a in arms
    ]
    base = next((a for a in arms if a.arm == "base"), None)
    if base is not None:
        paragraphs += [_generalization_finding(base, a) for a in arms if a is not base]
    return paragraphs, [comparison_figure(table, columns, "bars: value; whiskers: interval")]


def _generalization_finding(base: ArmResult, arm: ArmResult) -> str:
    trained = _drop(base, arm, "harmful_compliance")
    held = _drop(base, arm, "harmful_compliance_held_out")
    if trained is None or held is None:
        return f"{arm.arm}: not enough samples to compare."
    text = (
        f"{arm.arm} cut harmful compliance by {trained:.2f} on trained and {held:.2f} on held-out"
    )
    if trained > 0.05 and held < trained / 2:
        return text + ": most of its harmlessness did not carry over to the unseen category."
    if trained > 0.05:
        return text + ": its harmlessness largely carried over."
    return text + ": it did not make the model measurably more harmless."


def _drop(base: ArmResult, arm: ArmResult, key: str) -> float | None:
    a, b = _value(base, key), _value(arm, key)
    return None if a is None or b is None else a - b


MONITOR_PANELS = {
    "format validity": "probe/format_valid",
    "language mixing": "probe/language_mixed",
    "think tokens": "probe/think_tokens",
    "proxy reward std": "probe/proxy_reward_std",
    "gold harmful": "probe/harmful_compliance",
}


def _e3(arms: list[ArmResult]) -> tuple[list[str], list[Any]]:
    panels = {
        title: {a.arm: series(_curve(a), key) for a in arms}
        for title, key in MONITOR_PANELS.items()
    }
    paragraphs = []
    for arm in arms:
        finals = []
        for title, key in MONITOR_PANELS.items():
            _, values = series(_curve(arm), key)
            if values:
                finals.append(f"{title} {values[0]:.2f} → {values[-1]:.2f}")
        paragraphs.append(f"{arm.arm} during RL: " + "; ".join(finals) + ".")
    return paragraphs, [series_figure(panels, "monitor curves of the GRPO stage (first seed)")]


def _e4(arms: list[ArmResult]) -> tuple[list[str], list[Any]]:
    paragraphs = [
        f"{a.arm}: language mixing {format_cell(a.estimate('language_mixing'))}, language "
        f"consistency {format_cell(a.estimate('language_consistency'))}, accuracy "
        f"{format_cell(a.estimate('accuracy'))}."
        for a in arms
    ]
    if len(arms) == 2:
        paragraphs.append(_language_finding(*arms))
    table = Table(tuple(HEADLINE), {a.arm: a.row() for a in arms})
    figure = comparison_figure(table, ["language mixing", "accuracy"], "mixing vs accuracy")
    return paragraphs, [figure]


def _language_finding(without: ArmResult, with_reward: ArmResult) -> str:
    mix_a, mix_b = _value(without, "language_mixing"), _value(with_reward, "language_mixing")
    acc_a, acc_b = _value(without, "accuracy"), _value(with_reward, "accuracy")
    if mix_a is None or mix_b is None or acc_a is None or acc_b is None:
        return "Not enough samples to compare the two arms."
    text = (
        f"The language reward moved mixing {mix_a:.3f} → {mix_b:.3f} and accuracy "
        f"{acc_a:.3f} → {acc_b:.3f}."
    )
    if mix_a < 0.05:
        return text + " Mixing was already rare without it, so it had little to remove here."
    if mix_b < mix_a - 0.05:
        return text + " It reduced mixing, as DeepSeek-R1 reports."
    return text + " It did not reduce mixing in this run."


def _e5(arms: list[ArmResult]) -> tuple[list[str], list[Any]]:
    base = next((a for a in arms if a.arm == "base"), None)
    if base is None:
        return ["E5 needs a base arm to measure gains against."], []
    labels, costs, gains = [], [], []
    for arm in arms:
        gain = _drop(base, arm, "harmful_compliance")
        if gain is None:
            continue
        cost = arm.compute("train FLOPs")
        labels.append(arm.arm)
        costs.append(cost.value if isinstance(cost, Estimate) else cost)
        gains.append(gain)
    front = pareto_front(costs, gains)
    names = ", ".join(labels[i] for i in front)
    paragraph = f"Not dominated by any other method (cheaper and at least as harmless): {names}."
    caption = "harmful-compliance drop vs the base model, against training FLOPs"
    return [paragraph], [pareto_figure(labels, costs, gains, front, caption)]


def _generic(arms: list[ArmResult]) -> tuple[list[str], list[Any]]:
    return [], []


SECTION_BUILDERS: dict[str, Callable[[list[ArmResult]], tuple[list[str], list[Any]]]] = {
    "E1": _e1,
    "E2": _e2,
    "E3": _e3,
    "E4": _e4,
    "E5": _e5,
}


def _transcripts(results: Results, base_name: str) -> list[Transcript]:
    """Gamed samples grouped by hack kind, a few per kind and arm, for the browser."""
    out: list[Transcript] = []
    seen: set[tuple[str, str]] = set()
    for (experiment, arm), result in results.items():
        if (arm, experiment) in seen or not result.seeds[0].training:
            continue
        seen.add((arm, experiment))
        per_kind: dict[str, int] = {}
        for row, kinds in _gamed_rows(result):
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
