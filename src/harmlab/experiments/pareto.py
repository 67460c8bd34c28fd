"""E5's question: which methods buy the most harmlessness per unit of compute.

    harmlab reproduce --only E5

A method is on the Pareto front when no other method is at least as cheap and at least as
harmless-making, and strictly better in one of the two. The front is what a practitioner
should choose from; everything else is dominated.
"""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(costs: Sequence[float], gains: Sequence[float]) -> list[int]:
    """Indices of the non-dominated points (low cost, high gain), cheapest first.

    >>> pareto_front([1.0, 2.0, 3.0, 2.5], [0.1, 0.5, 0.4, 0.6])
    [0, 1, 3]
    """
    if len(costs) != len(gains):
        raise ValueError("costs and gains must pair up")
    front = [
        i
        for i in range(len(costs))
        if not any(_dominates(costs[j], gains[j], costs[i], gains[i]) for j in range(len(costs)))
    ]
    return sorted(front, key=lambda i: (costs[i], -gains[i]))


def _dominates(cost_a: float, gain_a: float, cost_b: float, gain_b: float) -> bool:
    """a dominates b: no worse on both axes and strictly better on one."""
    return cost_a <= cost_b and gain_a >= gain_b and (cost_a < cost_b or gain_a > gain_b)
