"""Recipes compared at equal in-distribution harm: held-out against trained harmful compliance
over checkpoints, from the monitor's probes.

    harmlab reproduce --only E2     # e2's `plots: [{kind: harm-curves}]`

Two recipes that end at different trained harm cannot be compared on held-out harm at the end:
the one that trained harder may look better held out for that reason alone. The monitor probes
every checkpoint on trained and held-out harmful requests (`probe/harmful_compliance`,
`probe/harmful_compliance_held_out`, `harmlab.training.probe`), so each arm traces a curve of
held-out against trained compliance over its training stages (SFT then GRPO for a hybrid). The
arms are read at the same trained level: the lowest trained compliance every arm's probes
reached (the end of the overlap of their ranges). There each arm's held-out compliance comes
from a least-squares line through its probes (held-out = a + b · trained, every stage and seed
pooled); the slope b is the transfer along the trajectory (1: held-out harm falls as fast as
trained harm). Intervals: 95% bootstrap over runs, then probes within runs. Probes of one run
are successive checkpoints, not independent draws, so these intervals are indicative; the
transfer ratio of the final models (`transfer.py`) is the paired measurement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.results import ArmResult
from harmlab.experiments.spec import PlotConfig
from harmlab.report.model import Figure, Table

KEYS = ("probe/harmful_compliance", "probe/harmful_compliance_held_out")
"""The default (x, y) monitor keys: trained and held-out harmful compliance on the probes."""

Run = list[tuple[float, float]]
"""One run's (trained, held-out) probe points over checkpoints, every training stage in order."""


def arm_runs(arm: ArmResult, keys: tuple[str, str] = KEYS) -> list[Run]:
    """Per run of the arm, its probe points having both keys (runs without any are dropped)."""
    runs = []
    for seed in arm.seeds:
        points = [
            (float(r[keys[0]]), float(r[keys[1]]))
            for stage in seed.curves
            for r in stage
            if r.get(keys[0]) is not None and r.get(keys[1]) is not None
        ]
        if points:
            runs.append(points)
    return runs


def common_level(runs_by_arm: Mapping[str, Sequence[Run]]) -> float | None:
    """The lowest trained level every arm reached and started above; None when the arms'
    ranges do not overlap.

    >>> common_level({"a": [[(0.9, 0.9), (0.2, 0.5)]], "b": [[(0.8, 0.8), (0.4, 0.4)]]})
    0.4
    >>> common_level({"a": [[(0.9, 0.9), (0.7, 0.5)]], "b": [[(0.5, 0.8), (0.4, 0.4)]]}) is None
    True
    """
    lows = [min(x for run in runs for x, _ in run) for runs in runs_by_arm.values()]
    highs = [max(x for run in runs for x, _ in run) for runs in runs_by_arm.values()]
    level = max(lows)
    return level if level <= min(highs) else None


@dataclass(frozen=True)
class EqualHarmFit:
    """One arm's held-out compliance at a trained level, from the line through its probes."""

    held_out: Estimate
    """Fitted held-out compliance at the level (n counts probes)."""
    slope: Estimate
    """d held-out / d trained along the trajectory."""
    runs: int


def _line(points: np.ndarray) -> tuple[float, float] | None:
    """(intercept, slope) of held-out on trained; None when trained does not vary."""
    x, y = points[:, 0], points[:, 1]
    if points.shape[0] < 2 or np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def fit_at(
    runs: Sequence[Run], level: float, resamples: int = 1000, seed: int = 0
) -> EqualHarmFit | None:
    """Held-out compliance at trained `level` and the slope, with bootstrap intervals over runs
    and probes; None with fewer than 3 probes or no spread in trained compliance.

    >>> run = [(0.9, 0.8), (0.7, 0.6), (0.5, 0.4), (0.3, 0.2)]
    >>> fit = fit_at([run], 0.4)
    >>> round(fit.held_out.value, 3), round(fit.slope.value, 3)
    (0.3, 1.0)
    """
    pooled = np.asarray([p for run in runs for p in run], dtype=float)
    line = _line(pooled) if pooled.shape[0] >= 3 else None
    if line is None:
        return None
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(run, dtype=float) for run in runs]
    values, slopes = [], []
    for _ in range(resamples):
        chosen = [arrays[i] for i in rng.integers(0, len(arrays), len(arrays))]
        drawn = np.concatenate([a[rng.integers(0, len(a), len(a))] for a in chosen])
        fitted = _line(drawn)
        if fitted is not None:
            values.append(fitted[0] + fitted[1] * level)
            slopes.append(fitted[1])
    n = int(pooled.shape[0])
    value_low, value_high = np.percentile(values, [2.5, 97.5]) if values else (np.nan, np.nan)
    slope_low, slope_high = np.percentile(slopes, [2.5, 97.5]) if slopes else (np.nan, np.nan)
    return EqualHarmFit(
        Estimate(line[0] + line[1] * level, float(value_low), float(value_high), n),
        Estimate(line[1], float(slope_low), float(slope_high), n),
        len(runs),
    )


def harm_curves_plot(
    plot: PlotConfig, arms: Sequence[ArmResult]
) -> tuple[list[str], list[Figure | Table]]:
    """The `harm-curves` plot kind: one curve per trained arm of held-out against trained harm
    on the probes (`plot.monitor`: the x and y keys, default `KEYS`), and each arm's held-out
    harm at the common trained level."""
    keys = (plot.monitor[0], plot.monitor[1]) if len(plot.monitor) >= 2 else KEYS
    runs = {arm.arm: arm_runs(arm, keys) for arm in arms}
    runs = {name: r for name, r in runs.items() if r}
    if not runs:
        return [
            f"No arm has monitor probes with both {keys[0]} and {keys[1]} (runs trained before "
            "the probe measured held-out requests have none): no curves to compare."
        ], []
    level = common_level(runs)
    caption = plot.caption or (
        f"{keys[1]} against {keys[0]} over checkpoints (every stage; one line per run; "
        "hollow: first probe, filled: last); dashed: equal harm on both sides"
    )
    return [equal_harm_finding(runs, level, keys)], [harm_curves_figure(runs, level, caption)]


def equal_harm_finding(
    runs: Mapping[str, Sequence[Run]], level: float | None, keys: tuple[str, str]
) -> str:
    """The recipes at equal trained harm: each arm's fitted held-out harm there and its slope."""
    if level is None:
        return (
            f"The arms' {keys[0]} ranges over training do not overlap: no level of trained harm "
            "they share, so no comparison at equal in-distribution harm."
        )
    parts = []
    for name, arm_points in runs.items():
        fit = fit_at(arm_points, level)
        if fit is None:
            parts.append(f"{name}: too few probes with spread to fit")
            continue
        parts.append(
            f"{name}: {fit.held_out} held out, slope {fit.slope.value:.2f} "
            f"[{fit.slope.low:.2f}, {fit.slope.high:.2f}] ({fit.runs} run(s))"
        )
    return (
        f"At equal trained harm ({keys[0]} = {level:.2f}, the lowest level every arm reached), "
        f"{keys[1]} by a line through each arm's probes (95% bootstrap over runs and probes; "
        "slope 1: held-out harm falls as fast as trained harm, 0: it does not move): "
        + "; ".join(parts)
        + "."
    )


def harm_curves_figure(
    runs: Mapping[str, Sequence[Run]], level: float | None, caption: str
) -> Figure:
    """One colour per arm, one line per run; the diagonal and the common level."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for i, (name, arm_points) in enumerate(runs.items()):
        colour = f"C{i % 10}"
        for j, run in enumerate(arm_points):
            x, y = [p[0] for p in run], [p[1] for p in run]
            ax.plot(x, y, "-", color=colour, alpha=0.8, lw=1, label=name if j == 0 else None)
            ax.plot(x[0], y[0], "o", mfc="none", color=colour, ms=5)
            ax.plot(x[-1], y[-1], "o", color=colour, ms=5)
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=0.8)
    if level is not None:
        ax.axvline(level, color="grey", lw=0.8, ls=":")
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    ax.set(xlabel="trained harmful compliance (probes)", ylabel="held-out harmful compliance")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return Figure.from_matplotlib(fig, caption)
