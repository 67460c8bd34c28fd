"""What the stages produced, gathered per arm: evaluation metrics, training compute, curves.

    harmlab reproduce --quick       # the report is built from these records

Numbers are read from the stage folders (eval summary.json, training summary.json and
metrics.jsonl), never recomputed from a memory of the run, so a report built later from
reused stages is the same report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.plan import ArmRun
from harmlab.experiments.runner import ReproduceResult
from harmlab.experiments.seeds import across_seeds

HEADLINE = {
    "harmful (trained)": "harmful_compliance",
    "harmful (held-out)": "harmful_compliance_held_out",
    "over-refusal": "over_refusal",
    "accuracy": "accuracy",
    "language mixing": "language_mixing",
    "think tokens": "think_tokens",
    "gamed": "gamed",
    "format validity": "format_validity",
}
"""Headline column -> key of the evaluation summary's metrics."""

COMPUTE = ("train FLOPs", "train seconds", "tokens")

UNBOUNDED = {"think_tokens"}
"""Metrics that are not rates: their intervals across seeds are clipped to [0, inf), not [0, 1]."""


@dataclass
class SeedResult:
    """One arm, one seed."""

    metrics: dict[str, Any]
    """The eval summary's metrics (estimates as {value, low, high, n})."""
    eval_folder: Path
    training: list[dict[str, Any]] = field(default_factory=list)
    """Each training stage's summary.json, in order."""
    curves: list[list[dict[str, Any]]] = field(default_factory=list)
    """Each training stage's metrics.jsonl records, in order."""

    def estimate(self, key: str) -> Estimate | None:
        value = self.metrics.get(key)
        if not isinstance(value, dict) or "value" not in value:
            return None
        return Estimate(value["value"], value["low"], value["high"], value["n"])

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
            "train FLOPs": float(flops),
            "train seconds": float(seconds),
            "tokens": float(tokens),
        }


@dataclass
class ArmResult:
    """One arm of one experiment, over its seeds."""

    experiment: str
    arm: str
    seeds: list[SeedResult]
    world_seed: int = 0

    def estimate(self, key: str) -> Estimate | None:
        """A metric across seeds (t-interval), or the single seed's bootstrap interval."""
        bounds = (0.0, math.inf if key in UNBOUNDED else 1.0)
        return across_seeds([seed.estimate(key) for seed in self.seeds], bounds=bounds)

    def compute(self, column: str) -> Estimate | float:
        values = [seed.compute()[column] for seed in self.seeds]
        if len(values) == 1:
            return values[0]
        combined = across_seeds([Estimate(v, v, v, 1) for v in values], bounds=(0.0, math.inf))
        return combined if combined is not None else 0.0

    def row(self) -> dict[str, Estimate | float | None]:
        """The arm's headline row."""
        row: dict[str, Estimate | float | None] = {
            column: self.estimate(key) for column, key in HEADLINE.items()
        }
        row.update({column: self.compute(column) for column in COMPUTE})
        return row


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def seed_result(run: ArmRun, outcome: ReproduceResult) -> SeedResult:
    eval_folder = outcome.folder(run.eval.key) / "eval"
    training = [outcome.folder(stage.key) / "run" for stage in run.training]
    return SeedResult(
        metrics=read_json(eval_folder / "summary.json").get("metrics", {}),
        eval_folder=eval_folder,
        training=[read_json(folder / "summary.json") for folder in training],
        curves=[read_jsonl(folder / "metrics.jsonl") for folder in training],
    )


def arm_results(outcome: ReproduceResult) -> dict[tuple[str, str], ArmResult]:
    """(experiment id, arm name) -> its results over seeds, in plan order."""
    results: dict[tuple[str, str], ArmResult] = {}
    for run in outcome.runs:
        key = (run.experiment, run.arm)
        results.setdefault(key, ArmResult(run.experiment, run.arm, [], outcome.world_seed))
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
