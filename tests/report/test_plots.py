"""Each plot draws the numbers it is given: read back from the matplotlib figure before it is
rendered (line data, bar heights and whiskers, scatter points), not guessed from PNG sizes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure as MplFigure

from harmlab.evaluation.intervals import Estimate
from harmlab.report.model import Figure, Table
from harmlab.report.plots import (
    Curve,
    comparison_figure,
    pareto_figure,
    proxy_gold_figure,
    series_figure,
)


@pytest.fixture()
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[MplFigure]:
    """The matplotlib figures the plot functions render, kept open for inspection."""
    figures: list[MplFigure] = []
    render = Figure.from_matplotlib.__func__  # type: ignore[attr-defined]

    def keep(cls: type[Figure], figure: MplFigure, caption: str, dpi: int = 110) -> Figure:
        figures.append(figure)
        return render(cls, figure, caption, dpi=40)  # still rendered, to catch drawing errors

    monkeypatch.setattr(Figure, "from_matplotlib", classmethod(keep))
    return figures


def _lines(ax: Any) -> list[tuple[list[float], list[float]]]:
    return [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines]


def test_proxy_gold_figure_plots_proxy_gold_and_gamed_over_steps_and_kl(
    drawn: list[MplFigure],
) -> None:
    curve = Curve([0, 10, 20], [0, 0.5, 0.9], [-1, -0.2, 0.1], [0.8, 0.7, 0.75], [0, 0.2, 0.4])
    figure = proxy_gold_figure({"blocklist": curve}, "E1")
    assert figure.caption == "E1" and figure.png.startswith(b"\x89PNG")
    steps, kl, gamed = drawn[0].axes
    assert _lines(steps) == [([0, 10, 20], [-1, -0.2, 0.1]), ([0, 10, 20], [0.8, 0.7, 0.75])]
    assert _lines(kl) == [([0, 0.5, 0.9], [-1, -0.2, 0.1]), ([0, 0.5, 0.9], [0.8, 0.7, 0.75])]
    assert _lines(gamed) == [([0, 10, 20], [0, 0.2, 0.4])]


def test_comparison_figure_draws_each_value_with_its_interval(drawn: list[MplFigure]) -> None:
    table = Table(
        ("harmful", "accuracy"),
        {"base": {"harmful": Estimate(0.7, 0.6, 0.8, 9), "accuracy": 0.5}, "sft": {}},
    )
    comparison_figure(table, ["harmful", "accuracy"], "E2")
    (ax,) = drawn[0].axes
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([0.7, 0.5, 0.0, 0.0])  # base's two bars, then sft's (missing)
    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    whiskers = errorbars[0].lines[2][0].get_segments()  # base's: (low, high) per metric
    assert [tuple(s[:, 1]) for s in whiskers] == [pytest.approx((0.6, 0.8)), (0.5, 0.5)]
    assert ax.get_ylim()[1] == pytest.approx(1.05)


def test_comparison_figure_makes_room_for_values_above_one(drawn: list[MplFigure]) -> None:
    table = Table(("think tokens",), {"rl": {"think tokens": Estimate(20.0, 15.0, 25.0, 9)}})
    comparison_figure(table, ["think tokens"], "tokens")
    assert drawn[0].axes[0].get_ylim()[1] >= 25.0


def test_pareto_figure_joins_the_front(drawn: list[MplFigure]) -> None:
    pareto_figure(["a", "b", "c"], [1e9, 2e9, 3e9], [0.1, 0.3, 0.2], [0, 1], "E5")
    (ax,) = drawn[0].axes
    points = np.asarray(ax.collections[0].get_offsets())
    assert points.tolist() == [[1e9, 0.1], [2e9, 0.3], [3e9, 0.2]]
    assert _lines(ax) == [([1e9, 2e9], [0.1, 0.3])]
    assert [text.get_text() for text in ax.texts] == ["a", "b", "c"]


def test_series_figure_has_one_panel_per_metric_and_one_line_per_run(
    drawn: list[MplFigure],
) -> None:
    lines = {"rl": ([0, 5], [0.2, 0.4]), "hybrid": ([0, 5], [0.9, 0.95])}
    series_figure({"format": lines, "mixing": {"rl": ([0, 5], [0.3, 0.1])}}, "E3")
    format_ax, mixing_ax = drawn[0].axes
    assert format_ax.get_title() == "format" and mixing_ax.get_title() == "mixing"
    assert _lines(format_ax) == [([0, 5], [0.2, 0.4]), ([0, 5], [0.9, 0.95])]
    assert _lines(mixing_ax) == [([0, 5], [0.3, 0.1])]
