"""The `transfer` plot kind: each trained arm's transfer ratio on every generalization axis,
as a table, a sentence per arm and a figure.

    harmlab reproduce --only E2     # e2's `plots: [{kind: transfer, reference: base}]`

The ratio, its interval and its wording are `transfer_ratio.py`; this module pairs an arm's
evaluation with the reference's prompt by prompt on each axis (`axis_drops`), leaves out the
held-out values the untrained arm cannot handle (`generalization.slice_capability`, read from
its evaluation summary), and renders the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harmlab.evaluation.generalization import axis_side
from harmlab.evaluation.intervals import Estimate
from harmlab.evaluation.metrics import Observation, harmful_compliance_rate
from harmlab.experiments.report import AXIS_LABELS
from harmlab.experiments.results import ArmResult, SeedResult
from harmlab.experiments.spec import PlotConfig
from harmlab.experiments.transfer_ratio import (
    PromptDrop,
    Transfer,
    transfer_ratio,
    transfer_verdict,
)
from harmlab.report.model import Cell, Figure, Table
from harmlab.world.axes import AXIS_NAMES, axis

Compliance = dict[str, tuple[float, Observation]]
"""Prompt id -> (harmful compliance on the prompt's samples, one of its observations)."""


def prompt_compliance(run: SeedResult) -> Compliance:
    """Each harmful request's compliance in one evaluation, by the evaluation's own metric."""
    from harmlab.evaluation.harness import observation  # imports torch: only when reporting

    groups: dict[str, list[Observation]] = {}
    for row in run.samples:
        if row.get("family") == "harmful":
            groups.setdefault(row["prompt_id"], []).append(observation(dict(row), run.trusted))
    out: Compliance = {}
    for prompt, observations in groups.items():
        value = harmful_compliance_rate(observations, held_out=None)
        if value is not None:
            out[prompt] = (value.value, observations[0])
    return out


def axis_drops(
    reference: Compliance, arm: Compliance, name: str, left_out: Mapping[str, str]
) -> list[PromptDrop]:
    """The paired drops of one run on axis `name`, held-out values in `left_out` dropped."""
    attribute = axis(name).attribute
    out = []
    for prompt in sorted(reference.keys() & arm.keys()):
        value, o = reference[prompt]
        side = axis_side(o, name)
        if side is None or (side == "held_out" and str(getattr(o, attribute)) in left_out):
            continue
        out.append(PromptDrop(value - arm[prompt][0], side, o.hazard or prompt, value))
    return out


def value_capability(control: SeedResult | None, name: str) -> dict[str, str]:
    """Each held-out value of axis `name` -> its capability control on the untrained arm
    (`generalization.axis_slices`, as the evaluation summary stored it)."""
    slices = ((control.metrics.get("axes") if control else None) or {}).get(name) or {}
    return {
        value: str(side.get("capability", "unmeasured"))
        for value, side in slices.items()
        if value not in ("trained", "held_out") and isinstance(side, dict)
    }


def not_capable(control: SeedResult | None, name: str) -> dict[str, str]:
    """The held-out values of axis `name` the untrained arm cannot handle, with the verdict."""
    values = value_capability(control, name)
    return {value: c for value, c in values.items() if c.startswith("not capable")}


def capability_cell(control: SeedResult | None, name: str) -> str:
    """The capability control of an axis's held-out side, as a table cell: the values left
    out, the values whose control was not sampled, else 'capable'."""
    if control is None:
        return "unmeasured: no untrained arm"
    values = value_capability(control, name)
    parts = [f"left out: {v} ({c})" for v, c in sorted(not_capable(control, name).items())]
    unmeasured = sorted(v for v, c in values.items() if c == "unmeasured")
    parts += ["unmeasured: " + ", ".join(unmeasured)] if unmeasured else []
    return "; ".join(parts) or ("capable" if values else "unmeasured")


def _run_in(arm: ArmResult | None, world: str, seed: int) -> SeedResult | None:
    """The arm's run in this world with this seed (else its first run in the world: the
    capability of the untrained model does not depend on a trainer seed)."""
    if arm is None:
        return None
    runs = [run for run in arm.seeds if run.world == world]
    return next((run for run in runs if run.seed == seed), runs[0] if runs else None)


@dataclass(frozen=True)
class AxisTransfer:
    """One arm on one axis: its transfer (None: no capable held-out slice) and capability."""

    arm: str
    axis: str
    transfer: Transfer | None
    capability: str


def arm_transfers(
    arm: ArmResult, reference: ArmResult, control: ArmResult | None, cache: dict[Path, Compliance]
) -> list[AxisTransfer]:
    """Every axis with held-out prompts: the arm's transfer from the reference, paired by
    (world, seed) run as `comparisons.compare_arms` pairs; `control` is the untrained arm whose
    capability controls apply; `cache` keeps each evaluation's per-prompt compliance."""

    def compliance(run: SeedResult) -> Compliance:
        if run.eval_folder not in cache:
            cache[run.eval_folder] = prompt_compliance(run)
        return cache[run.eval_folder]

    references = {(run.world, run.seed): run for run in reference.seeds}
    pairs = [
        (references[run.world, run.seed], run, _run_in(control, run.world, run.seed))
        for run in arm.seeds
        if (run.world, run.seed) in references
    ]
    out = []
    for name in AXIS_NAMES:
        runs = [
            axis_drops(compliance(ref), compliance(run), name, not_capable(ctl, name))
            for ref, run, ctl in pairs
        ]
        everything = [
            axis_drops(compliance(ref), compliance(run), name, {}) for ref, run, _ in pairs
        ]
        if not any(p.side == "held_out" for drops in everything for p in drops):
            continue  # the axis was not evaluated
        first_control = pairs[0][2] if pairs else None
        out.append(
            AxisTransfer(arm.arm, name, transfer_ratio(runs), capability_cell(first_control, name))
        )
    return out


COLUMNS = ("trained drop", "held-out drop", "transfer ratio", "verdict", "capability (base)")


def transfer_row(result: AxisTransfer) -> dict[str, Cell]:
    """One table row: the two drops, the ratio (— when undefined), the verdict, capability."""
    t = result.transfer
    return dict(
        zip(
            COLUMNS,
            (
                t.trained_drop if t else None,
                t.held_out_drop if t else None,
                t.ratio if t else None,
                transfer_verdict(t),
                result.capability,
            ),
            strict=True,
        )
    )


def describe_arm(arm: str, results: Sequence[AxisTransfer]) -> str:
    """One sentence per arm: each axis's verdict with its ratio or its trained drop."""
    parts = []
    for r in results:
        label, verdict = AXIS_LABELS[r.axis], transfer_verdict(r.transfer)
        if r.transfer is None:
            parts.append(f"{label}: {verdict}")
        elif r.transfer.ratio is None:
            parts.append(f"{label}: {verdict} (trained drop {_interval(r.transfer.trained_drop)})")
        else:
            parts.append(f"{label}: {verdict}, ratio {_interval(r.transfer.ratio)}")
    return f"{arm}: " + "; ".join(parts) + "."


def _interval(e: Estimate) -> str:
    return f"{e.value:+.2f} [{e.low:+.2f}, {e.high:+.2f}]"


def transfer_plot(
    plot: PlotConfig, arms: Sequence[ArmResult]
) -> tuple[list[str], list[Figure | Table]]:
    """The `transfer` plot kind: per trained arm and axis, the transfer ratio against the
    reference arm (`plot.reference`; default the first untrained arm), table and figure."""
    untrained = [a for a in arms if not a.seeds[0].training]
    default = untrained[0] if untrained else arms[0]
    reference = next((a for a in arms if a.arm == plot.reference), default)
    control = untrained[0] if untrained else None
    cache: dict[Path, Compliance] = {}
    trained = [a for a in arms if a.seeds[0].training and a is not reference]
    results = {a.arm: arm_transfers(a, reference, control, cache) for a in trained}
    results = {name: r for name, r in results.items() if r}
    if not results:
        return [
            f"No trained arm shares held-out axis prompts with {reference.arm}: no transfer."
        ], []
    intro = (
        f"Transfer ratio = the share of {reference.arm}'s held-out harmful compliance the arm "
        f"removes over the share of its trained harmful compliance it removes (drops paired by "
        f"prompt within each run; 95% bootstrap over runs and hazards). A ratio is given "
        f"only when the trained drop's interval lies above 0; near 1 the harmlessness carries "
        f"over, near 0 it does not. Held-out slices the untrained arm cannot handle are left "
        f"out (capability column)."
    )
    rows = {
        f"{a} · {AXIS_LABELS[r.axis]}": transfer_row(r) for a, rs in results.items() for r in rs
    }
    caption = plot.caption or (
        f"drops from {reference.arm} (reference − arm) and their ratio; —: no ratio (no trained "
        f"drop, or no capable held-out slice)"
    )
    table = Table(COLUMNS, rows, caption=caption)
    paragraphs = [intro, *(describe_arm(a, rs) for a, rs in results.items())]
    return paragraphs, [transfer_figure(results, caption), table]


RATIO_LIMITS = (-1.0, 2.0)
"""The figure's y range: whiskers beyond it are clipped (the table has the numbers)."""


def transfer_figure(results: Mapping[str, Sequence[AxisTransfer]], caption: str) -> Figure:
    """Ratio per axis (x) and arm (marker), 95% whiskers, lines at 0 and 1; no point where the
    ratio is undefined."""
    import matplotlib.pyplot as plt

    axes_shown: list[str] = [
        n for n in AXIS_NAMES if any(r.axis == n for rs in results.values() for r in rs)
    ]
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(axes_shown)), 3.4))
    width = 0.7 / max(1, len(results))
    for i, (arm, rs) in enumerate(results.items()):
        points = [
            (axes_shown.index(r.axis), r.transfer.ratio)
            for r in rs
            if r.transfer is not None and r.transfer.ratio is not None
        ]
        x = [p + (i - (len(results) - 1) / 2) * width for p, _ in points]
        values = [e.value for _, e in points]
        errors = [
            [max(e.value - e.low, 0.0) for _, e in points],  # a skewed point may sit outside
            [max(e.high - e.value, 0.0) for _, e in points],
        ]
        ax.errorbar(x, values, yerr=errors, fmt="o", ms=4, capsize=2, label=arm)
    for level in (0.0, 1.0):
        ax.axhline(level, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(axes_shown)), [AXIS_LABELS[n] for n in axes_shown], fontsize=8)
    ax.set(ylabel="share of harm removed: held out / trained", ylim=RATIO_LIMITS)
    ax.legend(fontsize=7, ncols=min(4, len(results)))
    ax.grid(axis="y", alpha=0.3)
    return Figure.from_matplotlib(fig, caption + f"; whiskers clipped to {list(RATIO_LIMITS)}")
