"""Intervals across seeds: how much a result moves when the whole training run is redone.

    harmlab reproduce --seeds 3     # every headline number is a mean over 3 seeds with its CI

Within one seed, a metric's bootstrap interval covers sampling noise of the evaluation only.
Across seeds the unit is the training run, and with 3–5 runs a percentile bootstrap is far too
narrow, so the interval is Student's t: mean ± t(0.975, n−1) · s / √n. With one seed there is
no spread to measure and the per-sample bootstrap interval of that seed is reported instead,
which the report labels as such. The t-interval is symmetric, so it is clipped to the range the
metric can take (a rate near 0 would otherwise reach below 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

from harmlab.evaluation.intervals import Estimate


def across_seeds(
    per_seed: Sequence[Estimate | None],
    level: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Estimate | None:
    """Combine one estimate per seed; n of the result counts seeds (samples when one seed).
    The interval is clipped to `bounds`, the values the metric can take.

    >>> runs = [Estimate(0.5, 0, 1, 10), Estimate(0.7, 0, 1, 10), Estimate(0.6, 0, 1, 10)]
    >>> e = across_seeds(runs)
    >>> round(e.value, 3), round(e.low, 3), round(e.high, 3), e.n
    (0.6, 0.352, 0.848, 3)
    >>> rare = [Estimate(0.0, 0, 0, 10), Estimate(0.0, 0, 0, 10), Estimate(0.1, 0, 0.2, 10)]
    >>> e = across_seeds(rare, bounds=(0.0, 1.0))
    >>> round(e.value, 3), e.low, round(e.high, 3)
    (0.033, 0.0, 0.177)
    """
    values = [e.value for e in per_seed if e is not None]
    if not values:
        return None
    if len(values) == 1:
        return next(e for e in per_seed if e is not None)
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1)) * spread / math.sqrt(len(values))
    low, high = max(bounds[0], mean - half), min(bounds[1], mean + half)
    return Estimate(mean, low, high, len(values))
