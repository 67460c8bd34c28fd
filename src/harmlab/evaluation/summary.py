"""The evaluation summary: headline metrics, their breakdowns, the axes and compute, as JSON.

    harmlab eval --model tiny --suite world --judges gold,refusal-string     # summary.json
    harmlab card --model tiny                                                # the same summary

`summarize` is what every evaluation writes (the harness's summary.json, which the
experiments' eval stages leave behind, and the behaviour card): the `HEADLINE_METRICS` table,
the headline rates broken down by category, language, wrapper, difficulty and surface form,
each generalization axis (`harmlab.evaluation.generalization.axis_table`) and compute. `plain`
turns it into plain JSON.
Every number comes from the one set of formulas in `harmlab.evaluation.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from harmlab.evaluation.generalization import axis_table
from harmlab.evaluation.intervals import Estimate
from harmlab.evaluation.metrics import (
    HEADLINE_METRICS,
    accuracy,
    benign_tasks,
    breakdown,
    compute_cost,
    gamed_rate,
    harmful_compliance_rate,
    language_mixing,
    over_refusal_rate,
    refusal_rate,
    requests,
    surface_form_share,
)
from harmlab.evaluation.observation import Observation


def _forms(o: Observation) -> tuple[str, ...]:
    return o.surface_forms or ("none",)


def breakdowns(obs: Sequence[Observation]) -> dict[str, dict[str, Estimate | None]]:
    """The headline rates by category, language, wrapper, difficulty and surface form."""
    everything = partial(requests, held_out=None)
    by_category = lambda o: o.category or "none"  # noqa: E731
    by_language = lambda o: o.language  # noqa: E731
    every_request = lambda metric: partial(metric, held_out=None)  # noqa: E731
    return {
        "harmful_compliance_by_category": breakdown(
            everything(obs), by_category, every_request(harmful_compliance_rate)
        ),
        "harmful_compliance_by_language": breakdown(
            requests(obs), by_language, harmful_compliance_rate
        ),
        "harmful_compliance_by_wrapper": breakdown(
            requests(obs), lambda o: o.wrapper or "none", harmful_compliance_rate
        ),
        "surface_form_share": surface_form_share(obs),
        "refusal_by_category": breakdown(everything(obs), by_category, every_request(refusal_rate)),
        "over_refusal_by_category": breakdown(
            [o for o in obs if o.family == "borderline"], by_category, over_refusal_rate
        ),
        "accuracy_by_difficulty": breakdown(
            benign_tasks(obs), lambda o: str(o.difficulty), accuracy
        ),
        "language_mixing_by_language": breakdown(
            benign_tasks(obs, None), by_language, partial(language_mixing, held_out=None)
        ),
        "gamed_by_surface_form": breakdown(requests(obs), _forms, gamed_rate),
        "gamed_by_category": breakdown(everything(obs), by_category, every_request(gamed_rate)),
    }


def summarize(obs: Sequence[Observation]) -> dict[str, Any]:
    """Every metric: the headline table, its breakdowns, the axes, and compute."""
    headline = {name: metric(obs) for name, metric in HEADLINE_METRICS.items()}
    axes = {"axes": axis_table(obs)}
    return headline | breakdowns(obs) | axes | {"compute": compute_cost(obs)}


def plain(value: Any) -> Any:
    """A summary as plain JSON (estimates as {value, low, high, n})."""
    if isinstance(value, Estimate):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
