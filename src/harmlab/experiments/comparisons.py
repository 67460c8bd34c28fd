"""Paired differences between two arms of an experiment, and the rule that words them.

    harmlab reproduce --only E2     # each `comparisons:` entry of e2's YAML becomes one sentence

Two arms of an experiment are evaluated on the same prompts with the same sampling seed, so
their difference is measured *paired*: per prompt, arm b's value minus arm a's (a prompt's value
is the metric on that prompt's samples, through the very metric function the evaluation
summary uses), then

- one seed: the mean over prompts with a percentile bootstrap over prompts (95%);
- several seeds: the per-seed mean differences, with a Student-t interval across seeds (the
  unit that varies is the training run; see `seeds.py`).

Pairing removes the prompt-to-prompt spread that two independent intervals would carry, so a
real difference shows even where the arms' own intervals overlap.

The wording rule: "higher" or "lower" only when the 95% interval of b − a excludes 0;
otherwise "no detectable difference", with the interval, so a reader sees how large a
difference the run could have missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harmlab.evaluation.intervals import Estimate, estimate
from harmlab.evaluation.metrics import HEADLINE_METRICS, Metric, Observation
from harmlab.experiments.results import ArmResult
from harmlab.experiments.seeds import across_seeds

_PAIRED = (
    "harmful_compliance",
    "harmful_compliance_held_out",
    "refusal",
    "refusal_held_out",
    "over_refusal",
    "accuracy",
    "language_consistency",
    "language_mixing",
    "think_tokens",
    "rule_safe",
    "gamed",
    "gamed_held_out",
    "harm_behind_refusal",
    "format_validity",
)
PAIRED_METRICS: dict[str, Metric] = {name: HEADLINE_METRICS[name] for name in _PAIRED}
"""The headline metrics that are a mean over samples, so a per-prompt value is meaningful
(ratios of sums such as tokens per correct answer do not pair by prompt)."""


def prompt_values(
    rows: Sequence[Mapping[str, Any]], metric: str, trusted: str = "gold"
) -> dict[str, float]:
    """Prompt id -> the metric on that prompt's samples, read through the `trusted` judge
    (prompts outside the metric's population, e.g. benign ones for harmful compliance, are
    left out)."""
    from harmlab.evaluation.harness import observation  # imports torch: only when reporting

    by_prompt: dict[str, list[Observation]] = {}
    for row in rows:
        by_prompt.setdefault(row["prompt_id"], []).append(observation(dict(row), trusted))
    values = {}
    for prompt, observations in by_prompt.items():
        value = PAIRED_METRICS[metric](observations)
        if value is not None:
            values[prompt] = value.value
    return values


def compare_arms(a: ArmResult, b: ArmResult, metric: str) -> Estimate | None:
    """b − a on `metric`, paired by prompt within each (world, seed) run the two arms share."""
    runs_b = {(seed.world, seed.seed): seed for seed in b.seeds}
    pairs = [(s, runs_b[s.world, s.seed]) for s in a.seeds if (s.world, s.seed) in runs_b]
    per_seed = [
        paired_difference(
            prompt_values(x.samples, metric, x.trusted),
            prompt_values(y.samples, metric, y.trusted),
            seed=x.seed,
        )
        for x, y in pairs
    ]
    return difference_across_seeds(per_seed)


def paired_difference(
    a: Mapping[str, float], b: Mapping[str, float], seed: int = 0
) -> Estimate | None:
    """Mean over the prompts both arms have of b − a, with a bootstrap interval over prompts.

    >>> d = paired_difference({"p1": 0.0, "p2": 1.0, "p3": 1.0}, {"p1": 1.0, "p2": 1.0, "p4": 0.0})
    >>> d.value, d.n
    (0.5, 2)
    """
    shared = sorted(a.keys() & b.keys())
    if not shared:
        return None
    return estimate([b[prompt] - a[prompt] for prompt in shared], seed=seed)


def difference_across_seeds(per_seed: Sequence[Estimate | None]) -> Estimate | None:
    """The difference over seeds: a t-interval of per-seed mean differences (one seed: its
    bootstrap interval over prompts). n counts seeds, or prompts for one seed.

    >>> runs = [Estimate(0.1, 0, 0.2, 50), Estimate(0.2, 0.1, 0.3, 50), Estimate(0.3, 0.2, 0.4, 50)]
    >>> d = difference_across_seeds(runs)
    >>> round(d.value, 3), round(d.low, 3), round(d.high, 3), d.n
    (0.2, -0.048, 0.448, 3)
    """
    return across_seeds(per_seed)


def interval_side(interval: Estimate, value: float = 0.0) -> int:
    """The wording rule's one test: +1 when the 95% interval lies above `value`, -1 when below,
    0 when it contains `value` (no claim either way). Transfer ratios use it at 0 and at 1.

    >>> interval_side(Estimate(0.2, 0.1, 0.3, 9)), interval_side(Estimate(0.2, -0.1, 0.3, 9))
    (1, 0)
    """
    return 1 if interval.low > value else -1 if interval.high < value else 0


def state_difference(a: str, b: str, label: str, difference: Estimate | None) -> str:
    """One sentence for b − a on a metric, by the wording rule (see the module docstring).

    >>> state_difference("base", "rl", "gamed", Estimate(0.25, 0.1, 0.4, 96))
    'rl has higher gamed than base: rl − base = +0.250 [+0.100, +0.400] (paired, n=96).'
    >>> state_difference("base", "rl", "gamed", Estimate(0.05, -0.02, 0.12, 96))
    'rl vs base, gamed: no detectable difference (interval +0.050 [-0.020, +0.120], n=96).'
    """
    if difference is None:
        return f"{b} vs {a}, {label}: not measured (the arms share no evaluated prompt)."
    interval = f"{difference.value:+.3f} [{difference.low:+.3f}, {difference.high:+.3f}]"
    side = interval_side(difference)
    if side:
        direction = "higher" if side > 0 else "lower"
        return (
            f"{b} has {direction} {label} than {a}: {b} − {a} = {interval} "
            f"(paired, n={difference.n})."
        )
    return f"{b} vs {a}, {label}: no detectable difference (interval {interval}, n={difference.n})."
