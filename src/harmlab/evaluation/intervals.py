"""Point estimates with bootstrap 95% intervals, the unit every harmlab metric reports.

A percentile bootstrap (Efron 1979) over samples: resample with replacement, recompute the
mean, take the 2.5th and 97.5th percentiles. Seeded, so the same samples give the same
interval. With no samples an estimate is `None` rather than a misleading 0.

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
