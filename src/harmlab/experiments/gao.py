"""Gao et al.'s RL over-optimisation law fitted to a run's gold reward over √KL, and its peak.

    harmlab reproduce --only E1     # the gao-fit plot: α, β with intervals, predicted vs seen peak

Gao, Schulman & Hilton (arXiv 2210.10760, sec. 3) find that under RL the gold reward, as a
function of d = √KL(π‖π₀), follows gold(d) = d(α − β·log d), gold measured from the initial
policy's. The curve peaks at d* = exp(α/β − 1), where gold(d*) = β·d* (set α − β − β·log d to
0), so a fit on early training predicts where more optimisation stops paying, which is the
test made here: fit the probes of the first 30% of steps, predict d* and gold(d*), compare with
the peak the whole run showed.

Departures, stated: gold is the monitor's `probe/gold_reward` by default (harmful request: +1
safe, −1 harmful; borderline: +1 answered, −1 refused; arithmetic: 1 correct, 0 wrong), the
reward the designer truly wants. The monitor first probes after step 1, not at step 0, so gold
is measured from each seed's first probe (where KL is near 0). The law is linear in (α, β), so
ordinary least squares is its exact fit (the optimum scipy's `curve_fit` iterates to, without
its failure on a perfect fit); intervals are t intervals from the OLS covariance (points pooled
over seeds), and those of d* and gold(d*) the delta method on their logarithms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from harmlab.evaluation.intervals import Estimate

MIN_POINTS = 3
"""Probes a fit needs: two parameters and at least one degree of freedom for an interval."""


@dataclass(frozen=True)
class Probe:
    """One probe of one run, gold and proxy measured from that run's first probe."""

    step: float
    sqrt_kl: float
    gold: float
    proxy: float | None


def gao_gold(d: Any, alpha: float, beta: float) -> Any:
    """Gao et al.'s RL form d(α − β·log d) (0 at d = 0), for a number or an array.

    >>> round(gao_gold(1.0, 0.5, 0.2), 3), gao_gold(0.0, 0.5, 0.2)
    (0.5, 0.0)
    """
    d = np.asarray(d, dtype=float)
    safe = np.where(d > 0, d, 1.0)
    value = np.where(d > 0, d * (alpha - beta * np.log(safe)), 0.0)
    return float(value) if value.ndim == 0 else value


@dataclass(frozen=True)
class GaoFit:
    """α and β with 95% intervals, and the peak they imply (None unless β's interval lies above
    0: a β the probes cannot tell from 0 puts d* = exp(α/β − 1) anywhere up to infinity, so
    the fit claims no turn, by the wording rule of `comparisons.interval_side`)."""

    alpha: Estimate
    beta: Estimate
    points: int
    peak_sqrt_kl: Estimate | None
    """d* = exp(α/β − 1) with its interval."""
    peak_gold: Estimate | None
    """gold(d*) = β·d*, measured from the first probe, with its interval."""


def fit_gao(sqrt_kl: Sequence[float], gold: Sequence[float]) -> GaoFit | None:
    """Least-squares fit of gold = d(α − β·log d) to probes with d > 0; None with fewer than
    `MIN_POINTS` of them or when the points cannot tell α from β (all at one d)."""
    pairs = [(d, g) for d, g in zip(sqrt_kl, gold, strict=True) if d > 0 and math.isfinite(g)]
    if len(pairs) < MIN_POINTS or len({d for d, _ in pairs}) < 2:
        return None
    d, g = (np.array(column, dtype=float) for column in zip(*pairs, strict=True))
    design = np.column_stack([d, -d * np.log(d)])
    (alpha, beta), *_ = np.linalg.lstsq(design, g, rcond=None)
    residual = g - design @ np.array([alpha, beta])
    cov = float(residual @ residual) / (len(pairs) - 2) * np.linalg.pinv(design.T @ design)
    t = float(stats.t.ppf(0.975, len(pairs) - 2))
    n = len(pairs)
    se_a, se_b = math.sqrt(max(cov[0, 0], 0.0)), math.sqrt(max(cov[1, 1], 0.0))
    turns = float(beta) - t * se_b > 0  # the curve bends down within what the probes measure
    peak_d, peak_gold = _peak(float(alpha), float(beta), cov, t, n) if turns else (None, None)
    return GaoFit(
        Estimate(float(alpha), float(alpha) - t * se_a, float(alpha) + t * se_a, n),
        Estimate(float(beta), float(beta) - t * se_b, float(beta) + t * se_b, n),
        n,
        peak_d,
        peak_gold,
    )


def _peak(
    alpha: float, beta: float, cov: np.ndarray, t: float, n: int
) -> tuple[Estimate | None, Estimate | None]:
    """d* and gold(d*) with delta-method intervals on log d* = α/β − 1 and log gold* =
    log β + α/β − 1 (both positive, so the intervals stay positive)."""
    if beta <= 0:
        return None, None
    log_d = alpha / beta - 1
    if log_d > 700:  # d* beyond any float: the fit sees no turn at all
        return None, None
    grad_d = np.array([1 / beta, -alpha / beta**2])
    grad_gold = np.array([1 / beta, 1 / beta - alpha / beta**2])
    out = []
    for log_value, grad in ((log_d, grad_d), (math.log(beta) + log_d, grad_gold)):
        half = t * math.sqrt(max(float(grad @ cov @ grad), 0.0))
        low, high = (math.exp(min(log_value + s * half, 700.0)) for s in (-1, 1))
        out.append(Estimate(math.exp(log_value), low, high, n))
    return out[0], out[1]


def probes(records: Sequence[dict[str, Any]], gold_key: str) -> list[Probe]:
    """A run's monitor records as probes, gold and proxy measured from its first probe."""
    rows = [
        r
        for r in records
        if r.get(gold_key) is not None and r.get("probe/sqrt_kl") is not None and "step" in r
    ]
    if not rows:
        return []
    gold0, proxy0 = rows[0][gold_key], rows[0].get("probe/proxy_reward")
    return [
        Probe(
            float(r["step"]),
            float(r["probe/sqrt_kl"]),
            float(r[gold_key]) - gold0,
            None
            if proxy0 is None or r.get("probe/proxy_reward") is None
            else float(r["probe/proxy_reward"]) - proxy0,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class PeakCheck:
    """A peak predicted from early probes against the peak of the whole run."""

    cutoff_step: float
    """Probes at or before this step were fitted (the first `fraction` of steps)."""
    early: GaoFit | None
    """The fit on those probes (None: too few of them)."""
    early_points: int
    observed_sqrt_kl: float
    """√KL of the step whose mean gold (over seeds) was highest."""
    observed_gold: float
    """That highest mean gold, measured from the first probe."""
    observed_at_end: bool
    """The highest gold was at the last probe: gold was still rising, the peak is a bound."""


def check_peak(runs: Sequence[Sequence[Probe]], fraction: float = 0.3) -> PeakCheck | None:
    """Fit the probes of the first `fraction` of steps (pooled over runs) and compare the peak
    they predict with the observed one (per-step means over runs); None without probes."""
    pooled = [p for run in runs for p in run]
    if not pooled:
        return None
    cutoff = fraction * max(p.step for p in pooled)
    early = [p for p in pooled if p.step <= cutoff]
    by_step: dict[float, list[Probe]] = defaultdict(list)
    for p in pooled:
        by_step[p.step].append(p)
    means = {
        step: (float(np.mean([p.sqrt_kl for p in ps])), float(np.mean([p.gold for p in ps])))
        for step, ps in sorted(by_step.items())
    }
    best = max(means, key=lambda step: means[step][1])
    return PeakCheck(
        cutoff,
        fit_gao([p.sqrt_kl for p in early], [p.gold for p in early]),
        sum(1 for p in early if p.sqrt_kl > 0),
        means[best][0],
        means[best][1],
        best == max(means),
    )


def describe_fit(arm: str, fit: GaoFit | None, points: int) -> str:
    """One sentence on the whole-run fit."""
    if fit is None:
        return (
            f"{arm}: {points} probes with √KL > 0, too few to fit gold(d) = d(α − β log d) "
            f"(needs {MIN_POINTS})."
        )
    text = f"{arm}: gold(d) = d(α − β log d) on {fit.points} probes: α {_bounds(fit.alpha)}, "
    text += f"β {_bounds(fit.beta)}"
    if fit.peak_sqrt_kl is None or fit.peak_gold is None:
        return text + f"; no peak claimed ({no_turn(fit)})."
    return text + (
        f"; peak at √KL {_bounds(fit.peak_sqrt_kl)}, gold change {_bounds(fit.peak_gold)}."
    )


def describe_check(arm: str, check: PeakCheck | None, fraction: float = 0.3) -> str:
    """One sentence comparing the early prediction with the observed peak."""
    if check is None:
        return f"{arm}: no probes to predict the gold peak from."
    observed = (
        f"observed peak: gold change {check.observed_gold:+.3f} at √KL "
        f"{check.observed_sqrt_kl:.3f}"
        + (
            " (the last probe: gold was still rising, so this is a lower bound)"
            if check.observed_at_end
            else ""
        )
    )
    cutoff = f"step ≤ {check.cutoff_step:g}"
    head = f"{arm}: from the probes of the first {fraction:.0%} of steps ({cutoff})"
    early = check.early
    if early is None:
        return f"{head}, {check.early_points} with √KL > 0, too few to predict a peak; {observed}."
    if early.peak_sqrt_kl is None or early.peak_gold is None:
        return f"{head}, the fit predicts no peak ({no_turn(early)}); {observed}."
    error = early.peak_gold.value - check.observed_gold
    return (
        f"{head}, predicted peak at √KL {_bounds(early.peak_sqrt_kl)}, gold change "
        f"{_bounds(early.peak_gold)}; {observed}; prediction − observed gold {error:+.3f}."
    )


def no_turn(fit: GaoFit) -> str:
    """Why a fit claims no peak: the law peaks only where β > 0 (gold bends down), so either
    β's interval reaches 0 or it lies wholly below 0 (gold bends up: there is no maximum)."""
    if fit.beta.high < 0:
        return "β's interval lies below 0: gold bends up, the law has no maximum"
    return "β's interval reaches 0: the probes show no turn"


def _bounds(value: Estimate) -> str:
    return f"{value.value:.3f} [{value.low:.3f}, {value.high:.3f}]"
