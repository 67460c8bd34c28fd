"""The Pareto front keeps exactly the non-dominated methods."""

from __future__ import annotations

import pytest

from harmlab.experiments.pareto import pareto_front

CASES = [
    ("one point", [1.0], [0.0], [0]),
    ("cheaper and better dominates", [1.0, 2.0], [0.5, 0.4], [0]),
    ("a trade-off keeps both", [1.0, 2.0], [0.4, 0.5], [0, 1]),
    ("ties keep both", [1.0, 1.0], [0.5, 0.5], [0, 1]),
    ("same cost, lower gain is dominated", [1.0, 1.0], [0.5, 0.3], [0]),
    ("sorted by cost", [3.0, 1.0, 2.0], [0.9, 0.1, 0.5], [1, 2, 0]),
]


@pytest.mark.parametrize(
    ("costs", "gains", "front"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_pareto_front(costs: list[float], gains: list[float], front: list[int]) -> None:
    assert pareto_front(costs, gains) == front


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="pair up"):
        pareto_front([1.0], [])
