"""Each plot renders to a PNG of a plausible size from the data it is given."""

from __future__ import annotations

import io

from PIL import Image

from harmlab.evaluation.intervals import Estimate
from harmlab.report.model import Figure, Table
from harmlab.report.plots import Curve, comparison_figure, pareto_figure, proxy_gold_figure


def _size(figure: Figure) -> tuple[int, int]:
    assert figure.png.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(figure.png)).size


def test_proxy_gold_figure_has_three_panels_side_by_side() -> None:
    curve = Curve([0, 10, 20], [0, 0.5, 0.9], [-1, -0.2, 0.1], [0.8, 0.7, 0.75], [0, 0.2, 0.4])
    width, height = _size(proxy_gold_figure({"blocklist": curve}, "E1"))
    assert width > 2.5 * height


def test_comparison_and_pareto_figures_render() -> None:
    table = Table(
        ("harmful", "accuracy"),
        {"base": {"harmful": Estimate(0.7, 0.6, 0.8, 9), "accuracy": 0.5}, "sft": {}},
    )
    assert _size(comparison_figure(table, ["harmful", "accuracy"], "E2"))[0] > 100
    figure = pareto_figure(["a", "b"], [1e9, 2e9], [0.1, 0.3], [0, 1], "E5")
    assert figure.caption == "E5" and _size(figure)[0] > 100


def test_series_figure_has_one_panel_per_metric() -> None:
    from harmlab.report.plots import series_figure

    lines = {"rl": ([0, 5], [0.2, 0.4]), "hybrid": ([0, 5], [0.9, 0.95])}
    width, height = _size(series_figure({"format": lines, "mixing": lines}, "E3"))
    assert width > 1.5 * height
