"""E8's price of a learned safety reward: gold labels spent per point of gold harm removed.

    harmlab reproduce --only E8     # plots: {kind: label-efficiency}

A learned reward (`harmlab.rewards.learned`) is bought with gold labels; what it buys is the
drop in gold harmful compliance of the policy trained on it, against a reference arm (default:
the first, the untrained base model). The drop is the paired difference reference − arm with
its 95% interval (`comparisons.compare_arms`), and the labels are the ones the arm's reward
logged (`learned/labels_used`, the static budget or the adaptive reward's running count), so
labels per percentage point = labels / (100 × drop).

The wording rule: a price is stated only when the drop's interval excludes 0 (its interval is
labels over the drop's interval ends); a drop whose interval holds 0 bought no removal this run
can tell from zero, and one wholly below 0 means harm rose.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt

from harmlab.evaluation.intervals import Estimate
from harmlab.experiments.comparisons import compare_arms
from harmlab.experiments.figures import SectionPart
from harmlab.experiments.results import METRIC_LABELS, ArmResult, series
from harmlab.experiments.spec import PlotConfig
from harmlab.report.model import Figure


def labels_per_point(arm: str, labels: float, removed: Estimate | None, label: str) -> str:
    """One sentence: the labels an arm spent per point of `label` removed, by the wording rule.

    >>> labels_per_point("a", 100, Estimate(0.2, 0.1, 0.3, 96), "harm")
    'a: 100 gold labels removed 20.0 points [10.0, 30.0] of harm: 5 labels per point [3, 10].'
    >>> labels_per_point("a", 100, Estimate(0.02, -0.05, 0.09, 96), "harm")
    'a: 100 gold labels; harm removed 2.0 points [-5.0, 9.0]: no detectable removal, no price.'
    """
    spent = f"{arm}: {labels:,.0f} gold labels"
    if removed is None:
        return (
            f"{spent}; harm removed not measured (no evaluated prompt shared with the reference)."
        )
    points = f"{100 * removed.value:.1f} points [{100 * removed.low:.1f}, {100 * removed.high:.1f}]"
    if removed.high < 0:
        return f"{spent}; {label} rose ({points} removed): the labels bought no removal."
    if removed.low <= 0:
        return f"{spent}; {label} removed {points}: no detectable removal, no price."
    price = labels / (100 * removed.value)
    low, high = labels / (100 * removed.high), labels / (100 * removed.low)
    return (
        f"{spent} removed {points} of {label}: {price:,.0f} labels per point "
        f"[{low:,.0f}, {high:,.0f}]."
    )


def label_efficiency(plot: PlotConfig, arms: Sequence[ArmResult]) -> SectionPart:
    """Per arm whose training logged gold labels: the harm it removed from the reference and
    the labels it paid per point; a figure of harm removed against labels spent."""
    metric = plot.metrics[0] if plot.metrics else "harmful_compliance"
    label = METRIC_LABELS[metric]
    reference = next((a for a in arms if a.arm == plot.reference), arms[0])
    points: dict[str, tuple[float, Estimate]] = {}
    paragraphs = [
        f"Gold labels per percentage point of {label} removed from {reference.arm} (paired "
        "difference, 95% interval); an arm rewarded by gold itself has no label budget."
    ]
    for arm in arms:
        labels = arm.value("gold_labels")
        if arm is reference or not isinstance(labels, float | int):
            continue
        removed = compare_arms(arm, reference, metric)  # reference − arm: harm removed
        paragraphs.append(
            labels_per_point(arm.arm, float(labels), removed, label) + _agreement(arm)
        )
        if removed is not None:
            points[arm.arm] = (float(labels), removed)
    if not points:
        return [f"No arm logged gold labels (learned/labels_used) with {label} measured."], []
    caption = plot.caption or (
        f"{label} removed from {reference.arm} (95% interval) against gold labels spent"
    )
    return paragraphs, [_labels_figure(points, label, caption)]


def _agreement(arm: ArmResult) -> str:
    """The fitted head's held-out agreement with gold, as its reward logged it (first seed;
    an adaptive reward's refitted heads are not re-measured, so it logs none)."""
    curves = arm.seeds[0].curves
    _, agreement = series(curves[-1], "learned/agreement") if curves else ([], [])
    if not agreement:
        return ""
    return (
        f" Its head agreed with gold on {agreement[-1]:.1%} of held-out world-written "
        "responses (not policy samples)."
    )


def _labels_figure(points: dict[str, tuple[float, Estimate]], label: str, caption: str) -> Figure:
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, (labels, removed) in points.items():
        ax.errorbar(
            [labels],
            [removed.value],
            yerr=[[removed.value - removed.low], [removed.high - removed.value]],
            fmt="o",
            capsize=3,
        )
        ax.annotate(
            name, (labels, removed.value), fontsize=7, xytext=(4, 4), textcoords="offset points"
        )
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xscale("log")
    ax.set(xlabel="gold labels spent", ylabel=f"{label} removed")
    ax.grid(alpha=0.3)
    return Figure.from_matplotlib(fig, caption)
