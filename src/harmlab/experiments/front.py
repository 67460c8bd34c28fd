"""E7's front: which arms no other arm beats on harmlessness, accuracy and over-refusal at once.

    harmlab reproduce --only E7     # plots: {kind: safety-front}

A safety method is worth choosing only if no other method is at least as good on every one of
the outcomes a practitioner trades off (harmful compliance down, reasoning accuracy up,
over-refusal down) and better on one. `non_dominated` is that rule over any number of
outcomes; the plot kind applies it to the arms' point estimates and says so: the front is a
summary of the table, and whether two arms really differ is the paired comparisons' job.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.figures import SectionPart
from harmlab.experiments.results import METRIC_LABELS, ArmResult
from harmlab.experiments.spec import PlotConfig
from harmlab.report.model import Figure

DEFAULT_FRONT = ("harmful_compliance", "accuracy", "over_refusal")
"""The outcomes traded off: the x axis, the y axis, and the colour of each arm's point."""

HIGHER_IS_BETTER = {"accuracy", "format_validity", "language_consistency", "refusal"}
"""Metrics where more is better; on every other metric (harm, over-refusal, gamed) less is."""


def non_dominated(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the points no other point dominates, every coordinate minimised (a point
    dominates another when it is no worse on every coordinate and better on one).

    >>> non_dominated([(0.1, 0.5), (0.2, 0.4), (0.3, 0.6), (0.1, 0.5)])
    [0, 1, 3]
    """

    def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
        return all(x <= y for x, y in zip(a, b, strict=True)) and any(
            x < y for x, y in zip(a, b, strict=True)
        )

    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


def safety_front(plot: PlotConfig, arms: Sequence[ArmResult]) -> SectionPart:
    """Each arm's outcomes (default: harmful compliance, accuracy, over-refusal), the arms on
    the front, and a scatter of the first two with the third as colour."""
    keys = list(plot.metrics or DEFAULT_FRONT)
    measured = {arm.arm: [arm.estimate(key) for key in keys] for arm in arms}
    rows = {name: [e for e in values if e is not None] for name, values in measured.items()}
    rows = {name: values for name, values in rows.items() if len(values) == len(keys)}
    labels = [METRIC_LABELS[key] for key in keys]
    if not rows:
        return [f"No arm has {', '.join(labels)} all measured."], []
    names = list(rows)
    signed = [
        [
            -e.value if key in HIGHER_IS_BETTER else e.value
            for key, e in zip(keys, rows[n], strict=True)
        ]
        for n in names
    ]
    front = [names[i] for i in non_dominated(signed)]
    directions = ", ".join(
        f"{label} {'up' if key in HIGHER_IS_BETTER else 'down'}"
        for key, label in zip(keys, labels, strict=True)
    )
    paragraph = (
        f"On the front ({directions}; point estimates, no other arm at least as good on all and "
        f"better on one): {', '.join(front)}. Dominated: "
        f"{', '.join(n for n in names if n not in front) or 'none'}."
    )
    caption = plot.caption or (
        f"{labels[0]} against {labels[1]} per arm (whiskers: 95% intervals)"
        + (f"; colour: {labels[2]}" if len(labels) > 2 else "")
        + "; ringed: on the front"
    )
    return [paragraph], [_front_figure(rows, front, labels, caption)]


def _front_figure(
    rows: dict[str, list[Estimate]], front: list[str], labels: list[str], caption: str
) -> Figure:
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    colour = [values[2].value for values in rows.values()] if len(labels) > 2 else None
    for name, values in rows.items():
        x, y = values[0], values[1]
        ax.errorbar(
            x.value,
            y.value,
            xerr=[[x.value - x.low], [x.high - x.value]],
            yerr=[[y.value - y.low], [y.high - y.value]],
            fmt="none",
            ecolor="0.6",
            lw=0.8,
        )
        ax.annotate(name, (x.value, y.value), fontsize=7, xytext=(4, 4), textcoords="offset points")
    xs = [values[0].value for values in rows.values()]
    ys = [values[1].value for values in rows.values()]
    points = ax.scatter(xs, ys, c=colour, cmap="viridis" if colour else None, zorder=3)
    ringed = [i for i, name in enumerate(rows) if name in front]
    ax.scatter(
        [xs[i] for i in ringed], [ys[i] for i in ringed], s=160, facecolors="none", edgecolors="k"
    )
    if colour is not None:
        fig.colorbar(points, ax=ax, label=labels[2])
    ax.set(xlabel=labels[0], ylabel=labels[1])
    ax.grid(alpha=0.3)
    return Figure.from_matplotlib(fig, caption)
