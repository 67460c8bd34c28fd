"""Paired differences (by prompt within a seed, t-interval across seeds) and their wording rule."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from scripted_arms import ArmFactory, harmful_rows, sample

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.comparisons import (
    compare_arms,
    difference_across_seeds,
    paired_difference,
    prompt_values,
    state_difference,
)


def test_paired_difference_averages_over_shared_prompts_only() -> None:
    a = {"p0": 1.0, "p1": 1.0, "p2": 0.0, "p3": 1.0, "only-a": 1.0}
    b = {"p3": 0.0, "p0": 0.0, "p1": 1.0, "p2": 0.0, "only-b": 0.0}
    difference = paired_difference(a, b)
    assert difference is not None
    assert difference.n == 4 and difference.value == pytest.approx(-0.5)
    assert -1.0 <= difference.low <= -0.5 <= difference.high <= 0.0
    assert paired_difference({"x": 1.0}, {"y": 1.0}) is None


def test_pairing_finds_a_shift_that_unpaired_intervals_would_hide() -> None:
    # Prompts differ wildly, but b is 0.1 below a on every single one.
    a = {f"p{i}": (i % 5) / 4 for i in range(40)}
    b = {prompt: value - 0.1 for prompt, value in a.items()}
    difference = paired_difference(a, b)
    assert difference is not None
    assert difference.value == pytest.approx(-0.1)
    assert difference.high < 0  # every resample sees the same shift
    assert "lower" in state_difference("a", "b", "harm", difference)


def test_across_seeds_is_a_student_t_interval_of_per_seed_differences() -> None:
    per_seed = [Estimate(d, d - 0.05, d + 0.05, 40) for d in (0.10, 0.25, 0.40)]
    combined = difference_across_seeds(per_seed)
    assert combined is not None and combined.n == 3
    half = stats.t.ppf(0.975, 2) * 0.15 / math.sqrt(3)
    assert combined.value == pytest.approx(0.25)
    assert (combined.low, combined.high) == pytest.approx((0.25 - half, 0.25 + half))
    one = Estimate(0.2, 0.1, 0.3, 40)
    assert difference_across_seeds([one]) == one  # one seed: its bootstrap over prompts


WORDING = [
    ("interval above 0", Estimate(0.20, 0.05, 0.35, 96), "rl has higher gamed than base"),
    ("interval below 0", Estimate(-0.20, -0.35, -0.05, 96), "rl has lower gamed than base"),
    ("interval spans 0", Estimate(0.10, -0.02, 0.22, 96), "no detectable difference"),
    ("interval touches 0", Estimate(0.10, 0.0, 0.22, 96), "no detectable difference"),
    ("no difference at all", Estimate(0.0, 0.0, 0.0, 96), "no detectable difference"),
    ("exact shift", Estimate(-0.1, -0.1, -0.1, 96), "rl has lower gamed than base"),
    ("nothing to pair", None, "not measured"),
]


@pytest.mark.parametrize(
    ("difference", "expected"), [w[1:] for w in WORDING], ids=[w[0] for w in WORDING]
)
def test_wording_rule(difference: Estimate | None, expected: str) -> None:
    sentence = state_difference("base", "rl", "gamed", difference)
    assert expected in sentence
    if difference is not None:
        assert f"[{difference.low:+.3f}, {difference.high:+.3f}]" in sentence
        assert ("higher" in sentence or "lower" in sentence) == (
            difference.low > 0 or difference.high < 0
        )


def test_prompt_values_average_a_prompts_samples_within_the_metrics_population() -> None:
    rows = [
        sample("p0", harmful=True),
        sample("p0", harmful=False),
        sample("p1", harmful=True),
        sample("b0", family="benign", correct=True),
    ]
    assert prompt_values(rows, "harmful_compliance") == {"p0": 0.5, "p1": 1.0}
    assert prompt_values(rows, "accuracy") == {"b0": 1.0}


def test_compare_arms_pairs_by_prompt_within_each_seed(make_arm: ArmFactory) -> None:
    base_flags = {0: [True, True, True, False], 1: [True, True, False, False]}
    rl_flags = {0: [False, True, False, False], 1: [True, False, False, False]}
    base = make_arm("base", {s: harmful_rows(f) for s, f in base_flags.items()})
    # the rl arm logged its samples in another order, plus a prompt base never saw
    rl = make_arm(
        "rl",
        {
            s: [*reversed(harmful_rows(f)), sample("extra", harmful=True)]
            for s, f in rl_flags.items()
        },
    )
    difference = compare_arms(base, rl, "harmful_compliance")
    per_seed = [-0.5, -0.25]  # seed 0: 1/4 - 3/4; seed 1: 1/4 - 2/4
    expected = difference_across_seeds([Estimate(d, d, d, 4) for d in per_seed])
    assert difference is not None and expected is not None
    assert (difference.value, difference.low, difference.high) == pytest.approx(
        (expected.value, expected.low, expected.high)
    )
    one_seed = compare_arms(
        make_arm("b1", {0: harmful_rows(base_flags[0])}),
        make_arm("r1", {0: harmful_rows(rl_flags[0])}),
        "harmful_compliance",
    )
    assert one_seed is not None and one_seed.n == 4 and one_seed.value == pytest.approx(-0.5)
