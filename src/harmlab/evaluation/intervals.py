"""Point estimates with 95% intervals, the unit every harmlab metric reports.

Means (lengths, shares of words) get a percentile bootstrap (Efron 1979) over samples:
resample with replacement, recompute the mean, take the 2.5th and 97.5th percentiles. Pooled
proportions (rates) get the exact Clopper-Pearson interval (`clopper_pearson`), which never
reads 0 of 288 as [0.000, 0.000]; proportions whose samples come in clusters (a hazard's many
phrasings) get a two-stage bootstrap over clusters (`clustered_proportion`). Everything is
seeded, so the same samples give the same interval. With no samples an estimate is `None`
rather than a misleading 0.

    harmlab card --model tiny      # every rate on the card is one of these

>>> estimate([1, 0, 1, 1]).value
0.75
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A mean with its bootstrap interval and sample count."""

    value: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}] (n={self.n})"


def estimate(
    values: Sequence[float], resamples: int = 2000, level: float = 0.95, seed: int = 0
) -> Estimate:
    """Mean of `values` with a percentile-bootstrap interval."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("cannot estimate a mean from no samples")
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size))


def estimate_or_none(values: Sequence[float], **kwargs: float) -> Estimate | None:
    """`estimate`, or None when there are no samples."""
    return estimate(values, **kwargs) if len(values) else None  # type: ignore[arg-type]


def estimate_ratio(
    numerators: Sequence[float],
    denominators: Sequence[float],
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """sum(numerators) / sum(denominators) with a percentile-bootstrap interval over samples.

    Resamples whose denominators sum to 0 are dropped (they have no ratio).

    >>> estimate_ratio([10, 20, 30], [1, 0, 1]).value
    30.0
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    if num.size == 0 or num.size != den.size or den.sum() == 0:
        raise ValueError("a ratio needs paired samples with a non-zero denominator")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, num.size, size=(resamples, num.size))
    sums = den[picks].sum(axis=1)
    ratios = num[picks].sum(axis=1)[sums > 0] / sums[sums > 0]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return Estimate(float(num.sum() / den.sum()), float(low), float(high), int(num.size))


def clopper_pearson(successes: int, n: int, level: float = 0.95) -> Estimate:
    """A pooled proportion `successes / n` with its exact (Clopper-Pearson 1934) interval.

    Unlike a bootstrap, it is honest at the edges: 0 of 288 is [0, 0.0127], not [0, 0].

    >>> str(clopper_pearson(0, 288))
    '0.000 [0.000, 0.013] (n=288)'
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"a proportion needs 0 <= successes <= n and n > 0, got {successes}/{n}")
    # scipy.stats takes about 2 s to import: only here, not in every CLI command that loads
    # a config (training.config reaches this module through data.curate and metrics)
    from scipy.stats import beta

    tail = (1 - level) / 2
    low = float(beta.ppf(tail, successes, n - successes + 1)) if successes > 0 else 0.0
    high = float(beta.ppf(1 - tail, successes + 1, n - successes)) if successes < n else 1.0
    return Estimate(successes / n, low, high, n)


def clustered_proportion(
    flags: Sequence[bool],
    clusters: Sequence[str],
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """A proportion whose samples come in clusters (prompts of one hazard), with its interval.

    Two-stage bootstrap (Davison & Hinkley 1997, section 3.8): resample clusters with
    replacement, then samples within each chosen cluster; the percentile interval of the pooled
    share. Samples of one hazard are not independent (a model that knows a hazard's recipe
    discloses it under every phrasing), so a per-sample interval is too narrow. The interval
    reported is the union of this one and the Clopper-Pearson interval: the bootstrap sees the
    clustering but collapses to a point when every sample agrees, Clopper-Pearson the reverse.

    >>> e = clustered_proportion([True, True, False, False], ["a", "a", "b", "b"])
    >>> e.value, e.low, e.high
    (0.5, 0.0, 1.0)
    """
    data = np.asarray(flags, dtype=float)
    if data.size == 0 or data.size != len(clusters):
        raise ValueError("a clustered proportion needs one cluster name per flag")
    members: dict[str, list[float]] = {}
    for flag, name in zip(data, clusters, strict=True):
        members.setdefault(name, []).append(float(flag))
    sizes = np.asarray([len(v) for v in members.values()])
    shares_in = np.asarray([sum(v) / len(v) for v in members.values()])
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, sizes.size, size=(resamples, sizes.size))
    # Resampling a cluster's binary flags with replacement draws Binomial(size, share) ones.
    ones = rng.binomial(sizes[chosen], shares_in[chosen])
    shares = ones.sum(axis=1) / sizes[chosen].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(shares, [tail, 100 - tail])
    exact = clopper_pearson(int(data.sum()), int(data.size), level)
    return Estimate(exact.value, min(float(low), exact.low), max(float(high), exact.high), exact.n)
