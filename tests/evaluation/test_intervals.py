"""Intervals: the exact binomial interval for pooled proportions, the hazard-clustered bootstrap."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from harmlab.evaluation.intervals import clopper_pearson, clustered_proportion, estimate


@pytest.mark.parametrize(("k", "n"), [(0, 288), (288, 288), (3, 10), (1, 1), (50, 100)])
def test_clopper_pearson_matches_scipy_exact_interval(k: int, n: int) -> None:
    ours = clopper_pearson(k, n)
    low, high = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert (ours.value, ours.n) == (k / n, n)
    assert ours.low == pytest.approx(low) and ours.high == pytest.approx(high)


def test_zero_of_many_is_not_a_zero_width_interval() -> None:
    assert estimate([0.0] * 288).high == 0.0  # what a bootstrap says
    assert clopper_pearson(0, 288).high > 0.01  # what the data allow


@pytest.mark.parametrize(("k", "n"), [(-1, 3), (4, 3), (0, 0)])
def test_clopper_pearson_rejects_impossible_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        clopper_pearson(k, n)


def test_clustered_proportion_resamples_clusters_then_samples() -> None:
    # One cluster of 30 all True, one of 30 all False: the share is 0 or 1 or in between
    # depending on which clusters a resample picks, so the interval spans nearly [0, 1].
    flags = [True] * 30 + [False] * 30
    clustered = clustered_proportion(flags, ["a"] * 30 + ["b"] * 30)
    independent = clustered_proportion(flags, [str(i) for i in range(60)])
    assert clustered.value == independent.value == 0.5
    assert clustered.low == 0.0 and clustered.high == 1.0
    assert 0.2 < independent.low < 0.5 < independent.high < 0.8


def test_clustered_proportion_contains_the_exact_interval_and_is_seeded() -> None:
    flags, clusters = [False] * 20, [f"h{i % 5}" for i in range(20)]
    e = clustered_proportion(flags, clusters)
    assert e.low == 0.0 and e.high == pytest.approx(clopper_pearson(0, 20).high)
    mixed = [i % 3 == 0 for i in range(20)]
    assert clustered_proportion(mixed, clusters) == clustered_proportion(mixed, clusters)
    with pytest.raises(ValueError):
        clustered_proportion([True], ["a", "b"])
