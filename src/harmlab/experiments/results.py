"""What the stages produced, gathered per arm: evaluation metrics, training compute, curves.

    harmlab reproduce --quick       # the report is built from these records

Numbers are read from the stage folders (eval summary.json, training summary.json and
metrics.jsonl), never recomputed from a memory of the run, so a report built later from
reused stages is the same report.

An arm that ran in several worlds (`harmlab reproduce --world-seeds K`, `--rotate-categories`)
holds every (world, seed) run; its estimates are then means over worlds with a t-interval
across worlds (each world's value being its mean over trainer seeds), and `in_world` gives one
world's results alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.seeds import across_seeds
from harmlab.experiments.spec import HEADLINE_METRICS

if TYPE_CHECKING:
    from harmlab.experiments.plan import ArmRun
    from harmlab.experiments.runner import ReproduceResult

METRIC_LABELS = {
    "harmful_compliance": "harmful (trained)",
    "harmful_compliance_held_out": "harmful (held-out)",
    "refusal": "refusal",
    "over_refusal": "over-refusal",
    "accuracy": "accuracy",
    "language_consistency": "language consistency",
    "language_mixing": "language mixing",
    "think_tokens": "think tokens",
    "tokens_to_correct_answer": "tokens per correct answer",
    "gamed": "gamed",
    "gamed_held_out": "gamed (held-out)",
    "hacking_ratio": "P(rule-safe | harmful)",
    "hacking_ratio_held_out": "P(rule-safe | harmful) (held-out)",
    "harm_behind_refusal": "harm behind refusal",
    "format_validity": "format validity",
    "audit_disagreement": "audit disagreement",
}
"""Evaluation summary metric -> its column label (`audit_disagreement` is the summary's
`audit.disagreement`: the audit judge flags what gold passes; any non-zero rate is a gold
blind spot)."""

COMPUTE_LABELS = {
    "train_flops": "train FLOPs",
    "train_seconds": "train seconds",
    "tokens": "tokens",
}
"""Training compute of an arm (summed over its training stages) -> its column label."""

LABEL_LABELS = {"gold_labels": "gold labels"}
"""Gold labels an arm's learned reward was fitted on (the last `learned/labels_used` its
training logged, summed over stages; not measured for arms without a learned reward)."""

COLUMN_LABELS = METRIC_LABELS | COMPUTE_LABELS | LABEL_LABELS
"""Everything an experiment's `metrics:` may name as a table column."""

HEADLINE = (*HEADLINE_METRICS, "audit_disagreement", *COMPUTE_LABELS)
"""The headline table's columns."""

UNBOUNDED = {"think_tokens", "tokens_to_correct_answer"}
"""Metrics that are not rates: their intervals across seeds are clipped to [0, inf), not [0, 1]."""


@dataclass
class SeedResult:
    """One arm, one seed."""

    seed: int
    """The training seed (arms' results pair up by it)."""
    metrics: dict[str, Any]
    """The eval summary's metrics (estimates as {value, low, high, n})."""
    eval_folder: Path
    training: list[dict[str, Any]] = field(default_factory=list)
    """Each training stage's summary.json, in order."""
    curves: list[list[dict[str, Any]]] = field(default_factory=list)
    """Each training stage's metrics.jsonl records, in order."""
    trusted: str = "gold"
    """The judge the evaluation's metrics read (its summary's `trusted`)."""
    world_seed: int = 0
    """The SafetyWorld the run trained and was evaluated in."""
    held_out_category: str | None = None
    """The world's held-out category (None: the default one)."""
    world: str = "world 0"
    """The world's label (`Foundation.label`: seed, and held-out category when rotated)."""

    @cached_property
    def samples(self) -> list[dict[str, Any]]:
        """The evaluation's judged samples (samples.jsonl), read once."""
        return read_jsonl(self.eval_folder / "samples.jsonl")

    def estimate(self, key: str) -> Estimate | None:
        """A summary metric, by name or by a dotted path into the metrics
        (`axes.attack.held_out.harmful_compliance`); None where it was not measured."""
        value: Any = self.metrics
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, dict) or "value" not in value:
            return None
        return Estimate(value["value"], value["low"], value["high"], value["n"])

    def gold_labels(self) -> float | None:
        """Gold labels spent by learned rewards: each stage's last `learned/labels_used`."""
        spent = [series(curve, "learned/labels_used")[1] for curve in self.curves]
        return sum(values[-1] for values in spent if values) if any(spent) else None

    def compute(self) -> dict[str, float]:
        """Training compute summed over the arm's training stages."""
        flops = sum(s.get("compute/flops_train", 0.0) for s in self.training)
        flops += sum(s.get("compute/flops_generation", 0.0) for s in self.training)
        seconds = sum(
            s.get(f"compute/{phase}_s", 0.0)
            for s in self.training
            for phase in ("generation", "scoring", "update")
        )
        tokens = sum(
            s.get("compute/tokens_generated", 0) + s.get("compute/tokens_trained", 0)
            for s in self.training
        )
        return {
            "train_flops": float(flops),
            "train_seconds": float(seconds),
            "tokens": float(tokens),
        }


@dataclass
class ArmResult:
    """One arm of one experiment, over its seeds."""

    experiment: str
    arm: str
    seeds: list[SeedResult]
    """Every run of the arm: each trainer seed in each world, in plan order."""

    @property
    def world_seed(self) -> int:
        """The world of the first run (the one curves and transcripts are read from)."""
        return self.seeds[0].world_seed

    @property
    def held_out_category(self) -> str | None:
        """The held-out category of the first run's world (None: the default one)."""
        return self.seeds[0].held_out_category

    @property
    def worlds(self) -> list[str]:
        """The labels of the worlds the arm ran in, in plan order."""
        return list(dict.fromkeys(seed.world for seed in self.seeds))

    def in_world(self, world: str) -> ArmResult:
        """The arm's runs in one world only."""
        return ArmResult(self.experiment, self.arm, [s for s in self.seeds if s.world == world])

    def estimate(self, key: str) -> Estimate | None:
        """A metric across seeds (t-interval), or the single seed's bootstrap interval; with
        several worlds, the mean over worlds with a t-interval across worlds."""
        bounds = (0.0, math.inf if key in UNBOUNDED else 1.0)
        worlds = self.worlds
        if len(worlds) > 1:
            per_world = [self.in_world(world).estimate(key) for world in worlds]
            return across_seeds(per_world, bounds=bounds)
        return across_seeds([seed.estimate(key) for seed in self.seeds], bounds=bounds)

    def compute(self, key: str) -> Estimate | float:
        """Training compute (a COMPUTE_LABELS key): one run's value, or the t-interval over
        every run (compute does not depend on the world)."""
        values = [seed.compute()[key] for seed in self.seeds]
        if len(values) == 1:
            return values[0]
        combined = across_seeds([Estimate(v, v, v, 1) for v in values], bounds=(0.0, math.inf))
        return combined if combined is not None else 0.0

    def value(self, key: str) -> Estimate | float | None:
        """An evaluation metric or a compute quantity (any COLUMN_LABELS key)."""
        if key in LABEL_LABELS:
            spent = [s.gold_labels() for s in self.seeds]
            known = [v for v in spent if v is not None]
            return sum(known) / len(known) if known else None
        return self.compute(key) if key in COMPUTE_LABELS else self.estimate(key)

    def row(self, keys: Sequence[str] = HEADLINE) -> dict[str, Estimate | float | None]:
        """The arm's table row: column label -> value, for the given keys."""
        return {COLUMN_LABELS[key]: self.value(key) for key in keys}


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sampling_record(provenance: dict[str, Any]) -> dict[str, Any]:
    """A curation's sampling cost (`provenance.json`) as `compute/*` fields, so rejection
    sampling is charged to the arm that trains on its data (E5)."""
    cost = provenance.get("cost") or {}
    return {
        "compute/flops_generation": cost.get("flops_generation") or 0.0,
        "compute/tokens_generated": cost.get("tokens_generated") or 0,
        "compute/generation_s": cost.get("seconds") or 0.0,
    }


def stage_summary(kind: str, folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A training stage's compute record and monitor curve, by kind: an SFT or GRPO run's
    summary and metrics; a curation's sampling cost (no curve); a distillation's teacher
    sampling (off-policy) or teacher scoring (on-policy) plus its student run, and the
    student's curve."""
    if kind == "curate":
        return sampling_record(read_json(folder / "data" / "provenance.json")), []
    if kind == "distill":
        student = folder / "run" / "student"
        summary = read_json(student / "summary.json")
        sampling = sampling_record(read_json(folder / "run" / "traces" / "provenance.json"))
        # on-policy distillation samples no traces; the teacher scores every student token
        teacher = read_json(folder / "run" / "distill.json").get("teacher_flops_forward")
        sampling["compute/flops_train"] = teacher or 0.0
        merged = {**summary, **{k: summary.get(k, 0) + v for k, v in sampling.items()}}
        return merged, read_jsonl(student / "metrics.jsonl")
    run = folder / "run"
    return read_json(run / "summary.json"), read_jsonl(run / "metrics.jsonl")


def seed_result(run: ArmRun, outcome: ReproduceResult) -> SeedResult:
    eval_folder = outcome.folder(run.eval.key) / "eval"
    stages = [stage_summary(s.name, outcome.folder(s.key)) for s in run.training]
    summary = read_json(eval_folder / "summary.json")
    audit = summary.get("audit") or {}
    return SeedResult(
        seed=run.seed,
        metrics=summary.get("metrics", {}) | {"audit_disagreement": audit.get("disagreement")},
        eval_folder=eval_folder,
        trusted=summary.get("trusted", "gold"),
        world_seed=run.world.world_seed,
        held_out_category=run.world.held_out_category,
        world=run.world.label,
        training=[record for record, _ in stages],
        curves=[curve for _, curve in stages],
    )


def arm_results(outcome: ReproduceResult) -> dict[tuple[str, str], ArmResult]:
    """(experiment id, arm name) -> its results over seeds and worlds, in plan order."""
    results: dict[tuple[str, str], ArmResult] = {}
    for run in outcome.runs:
        key = (run.experiment, run.arm)
        results.setdefault(key, ArmResult(run.experiment, run.arm, []))
        results[key].seeds.append(seed_result(run, outcome))
    return results


def headline_arms(results: dict[tuple[str, str], ArmResult]) -> list[ArmResult]:
    """One result per method name: the widest experiment's arms first (E5 lists every method),
    then arms only other experiments have, in plan order."""
    by_experiment: dict[str, list[ArmResult]] = {}
    for (experiment, _), result in results.items():
        by_experiment.setdefault(experiment, []).append(result)
    ordered = sorted(by_experiment.values(), key=len, reverse=True)
    seen: dict[str, ArmResult] = {}
    for arms in ordered:
        for result in arms:
            seen.setdefault(result.arm, result)
    return list(seen.values())


def series(records: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of a monitored metric, skipping records that lack it."""
    points = [(r["step"], r[key]) for r in records if r.get(key) is not None and "step" in r]
    return [float(s) for s, _ in points], [float(v) for _, v in points]
