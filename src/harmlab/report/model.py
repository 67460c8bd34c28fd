"""What a harmlab report holds, as plain data: headline table, sections with figures, transcripts.

    harmlab reproduce --quick       # builds a Report from the experiments' results and writes it

The experiment runner fills these records; `report.html` and `report.md` render them. Keeping
the content apart from its rendering lets a test check a report without a browser, and lets a
user build a report of their own runs with the same look.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harmlab.evaluation.intervals import Estimate

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure


@dataclass(frozen=True)
class Figure:
    """A plot, as PNG bytes, with the sentence that says what to see in it."""

    png: bytes
    caption: str

    @classmethod
    def from_matplotlib(cls, figure: MplFigure, caption: str, dpi: int = 110) -> Figure:
        """Render a matplotlib figure to PNG (and close it, so long runs do not leak figures)."""
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(figure)
        return cls(buffer.getvalue(), caption)


Cell = Estimate | float | str | None
"""A table cell: an estimate, a bare number, a verdict in words, or None ('not measured')."""


@dataclass(frozen=True)
class Table:
    """A table of estimates: one row per label, one column per metric; None is 'not measured'."""

    columns: tuple[str, ...]
    rows: Mapping[str, Mapping[str, Cell]]
    caption: str = ""

    def cell(self, row: str, column: str) -> Cell:
        return self.rows[row].get(column)


@dataclass(frozen=True)
class Section:
    """One experiment's part of the report: what it asks, what came out, and the evidence."""

    title: str
    paragraphs: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """One judged sample, for the transcript browser."""

    source: str
    """Which method or run produced it (e.g. 'E1 step 40')."""
    prompt: str
    think: str
    answer: str
    verdict: str
    """The label the browser filters on, e.g. 'harmful', 'gamed', 'refused', 'safe'."""
    kind: str = ""
    """A finer grouping, e.g. the kind of hack: 'obfuscated keyword', 'language switch'."""


@dataclass(frozen=True)
class Report:
    """A whole report: provenance first, then the headline, sections and transcripts."""

    title: str
    headline: Table
    sections: Sequence[Section] = ()
    transcripts: Sequence[Transcript] = ()
    provenance: Mapping[str, str] = field(default_factory=dict)
    """How to reproduce it: command, seeds, harmlab version, git commit, wall time."""


def format_cell(value: Cell) -> str:
    """A table cell: an estimate with its interval, a bare number, words as they are, or an em
    dash.

    >>> format_cell(Estimate(0.5, 0.25, 0.75, 8))
    '0.500 [0.250, 0.750]'
    >>> format_cell(None)
    '—'
    """
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, Estimate):
        return f"{_number(value.value)} [{_number(value.low)}, {_number(value.high)}]"
    return _number(value)


def _number(value: float) -> str:
    """Three decimals for rates, fewer for large counts, engineering notation for FLOPs."""
    if abs(value) >= 1e6:
        return f"{value:.2e}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3f}"
