"""report.md: the headline table and each section's findings, for a terminal or a pull request.

    harmlab reproduce --quick       # writes runs/report/report.md beside report.html

Plots and transcripts stay in report.html; this file points there.
"""

from __future__ import annotations

from harmlab.report.model import Report, Table, format_cell


def render_markdown(report: Report, html_name: str = "report.html") -> str:
    """The report's headline and findings as GitHub-flavoured Markdown."""
    lines = [f"# {report.title}", ""]
    lines += [f"- {key}: `{value}`" for key, value in report.provenance.items()]
    lines += ["", "## Headline", "", *markdown_table(report.headline), ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        for table in section.tables:
            lines += [*markdown_table(table), ""]
    lines += [f"Plots and transcripts: [{html_name}]({html_name})", ""]
    return "\n".join(lines)


def markdown_table(table: Table) -> list[str]:
    """A table as Markdown rows (pipes in labels escaped)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    header = "| " + " | ".join(["", *(cell(c) for c in table.columns)]) + " |"
    rule = "|" + "---|" * (len(table.columns) + 1)
    rows = [
        "| "
        + " | ".join([cell(row), *(format_cell(table.cell(row, c)) for c in table.columns)])
        + " |"
        for row in table.rows
    ]
    caption = ["", f"*{table.caption}*"] if table.caption else []  # a blank line ends a table
    return [header, rule, *rows, *caption]
