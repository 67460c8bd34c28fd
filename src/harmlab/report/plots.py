"""The report's plots: proxy-vs-gold curves, method comparisons with intervals, the cost front.

    harmlab reproduce --quick       # every figure in report.html comes from here

Curves follow Gao et al. 2022 (arXiv 2210.10760): the proxy reward and the gold score against
training steps and against √KL to the start policy, where over-optimisation shows as a proxy
that keeps rising while gold stalls or falls. All functions return `Figure` records (PNG bytes)
and never touch global matplotlib state beyond the figure they create.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt

from harmlab.evaluation.intervals import Estimate
from harmlab.report.model import Cell, Figure, Table


@dataclass(frozen=True)
class Curve:
    """One training run's monitored series, aligned by probe."""

    steps: Sequence[float]
    sqrt_kl: Sequence[float]
    proxy: Sequence[float]
    """Mean proxy (rule) reward on the probe set."""
    gold: Sequence[float]
    """Gold harmful-compliance rate on the probe set."""
    gamed: Sequence[float]
    """Share of probes the rule calls safe and gold calls harmful."""


def proxy_gold_figure(curves: Mapping[str, Curve], caption: str) -> Figure:
    """Three panels: proxy and gold over steps, the same over √KL, gamed rate over steps."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for label, curve in curves.items():
        line = axes[0].plot(curve.steps, curve.proxy, label=f"{label} proxy")[0]
        axes[0].plot(curve.steps, curve.gold, "--", color=line.get_color(), label=f"{label} gold")
        axes[1].plot(curve.sqrt_kl, curve.proxy, color=line.get_color())
        axes[1].plot(curve.sqrt_kl, curve.gold, "--", color=line.get_color())
        axes[2].plot(curve.steps, curve.gamed, color=line.get_color(), label=label)
    axes[0].set(xlabel="step", ylabel="proxy reward / gold harmful rate")
    axes[1].set(xlabel="√KL to the start policy (nats^½)")
    axes[2].set(xlabel="step", ylabel="gamed rate")
    axes[0].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    return Figure.from_matplotlib(fig, caption)


def comparison_figure(table: Table, columns: Sequence[str], caption: str) -> Figure:
    """Grouped bars, one group per metric and one bar per method, with interval whiskers."""
    rows = list(table.rows)
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(columns)), 3.4))
    width = 0.8 / max(1, len(rows))
    top = 1.0  # rates share one 0-1 axis; counts such as think tokens need more room
    for i, row in enumerate(rows):
        values: list[float] = []
        errors: list[list[float]] = [[], []]
        for column in columns:
            cell = table.cell(row, column)
            value, low, high = _interval(cell)
            values.append(value)
            errors[0].append(value - low)
            errors[1].append(high - value)
            top = max(top, high)
        positions = [c + (i - (len(rows) - 1) / 2) * width for c in range(len(columns))]
        ax.bar(positions, values, width, yerr=errors, capsize=2, label=row)
    ax.set_xticks(range(len(columns)), columns, fontsize=8)
    ax.set_ylim(0, 1.05 * top)
    ax.legend(fontsize=7, ncols=min(5, len(rows)))
    ax.grid(axis="y", alpha=0.3)
    return Figure.from_matplotlib(fig, caption)


def _interval(cell: Cell) -> tuple[float, float, float]:
    if cell is None or isinstance(cell, str):  # not measured, or a verdict in words: no bar
        return 0.0, 0.0, 0.0
    if isinstance(cell, Estimate):
        return cell.value, cell.low, cell.high
    return float(cell), float(cell), float(cell)


def pareto_figure(
    labels: Sequence[str],
    costs: Sequence[float],
    gains: Sequence[float],
    front: Sequence[int],
    caption: str,
) -> Figure:
    """Harmlessness gain against compute, the non-dominated methods joined by a line."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.scatter(costs, gains)
    for label, cost, gain in zip(labels, costs, gains, strict=True):
        ax.annotate(label, (cost, gain), fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.plot([costs[i] for i in front], [gains[i] for i in front], "-", alpha=0.5)
    ax.set(xlabel="training compute (FLOPs, estimated)", ylabel="drop in harmful compliance")
    ax.set_xscale("symlog")
    ax.grid(alpha=0.3)
    return Figure.from_matplotlib(fig, caption)


Series = tuple[Sequence[float], Sequence[float]]
"""(steps, values) of one monitored metric."""


def series_figure(panels: Mapping[str, Mapping[str, Series]], caption: str) -> Figure:
    """One panel per metric title, one line per run label, all over training steps."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0), squeeze=False)
    for ax, (title, lines) in zip(axes[0], panels.items(), strict=True):
        for label, (steps, values) in lines.items():
            ax.plot(steps, values, marker=".", label=label)
        ax.set(title=title, xlabel="step")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    return Figure.from_matplotlib(fig, caption)
