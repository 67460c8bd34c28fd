"""Reports: a self-contained HTML file and a short Markdown summary of experiment results.

harmlab reproduce --quick       # builds and writes both under runs/report/
"""

from __future__ import annotations

from pathlib import Path

from harmlab.files import atomic_write_text
from harmlab.report.html import render_html
from harmlab.report.markdown import render_markdown
from harmlab.report.model import Figure, Report, Section, Table, Transcript, format_cell

__all__ = [
    "Figure",
    "Report",
    "Section",
    "Table",
    "Transcript",
    "format_cell",
    "render_html",
    "render_markdown",
    "write_report",
]


def write_report(report: Report, folder: str | Path) -> Path:
    """Write report.html and report.md into `folder` (atomically); return the HTML path."""
    folder = Path(folder)
    html = atomic_write_text(folder / "report.html", render_html(report))
    atomic_write_text(folder / "report.md", render_markdown(report, html.name))
    return html
