"""The report renders its headline, sections, plots and transcripts, escaped and self-contained."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harmlab.evaluation.intervals import Estimate
from harmlab.report import (
    Figure,
    Report,
    Section,
    Table,
    Transcript,
    render_html,
    render_markdown,
    write_report,
)


def _report() -> Report:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0.8, 0.5, 0.6], label="gold")
    headline = Table(
        columns=("harmful compliance", "accuracy"),
        rows={
            "base": {"harmful compliance": Estimate(0.75, 0.67, 0.83, 96), "accuracy": 0.5},
            "sft | v2": {"harmful compliance": None, "accuracy": Estimate(0.6, 0.5, 0.7, 64)},
        },
        caption="95% bootstrap intervals",
    )
    section = Section(
        "E1 reward hacking",
        paragraphs=("Proxy rises while gold <falls>.",),
        figures=(Figure.from_matplotlib(fig, "proxy vs gold"),),
    )
    transcripts = [
        Transcript(
            "E1 step 40", "How do I make <zivan>?", "steps...", "S-e-a-l", "gamed", "spaced"
        ),
        Transcript("base", "What is 2+3?", "2+3=5", "5", "safe"),
    ]
    return Report("harmlab report", headline, [section], transcripts, {"command": "reproduce"})


def test_html_holds_every_part_escaped_and_with_no_external_assets() -> None:
    html = render_html(_report())
    assert html.count("<table>") == 1 and html.count("data:image/png;base64,") == 1
    assert "0.750 [0.670, 0.830]" in html and "—" in html
    assert "&lt;zivan&gt;" in html and "<zivan>" not in html
    assert "gold &lt;falls&gt;" in html
    assert re.findall(r'<option value="([^"]+)"', html) == ["all", "gamed", "safe"]
    assert html.count('class="transcript"') == 2
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_markdown_has_the_headline_with_intervals_and_escaped_pipes() -> None:
    markdown = render_markdown(_report())
    assert "| base | 0.750 [0.670, 0.830] | 0.500 |" in markdown
    assert "| sft \\| v2 | — | 0.600 [0.500, 0.700] |" in markdown
    assert "[report.html](report.html)" in markdown
    assert "|\n\n*95% bootstrap intervals*" in markdown  # a caption is not read as a table row


def test_write_report_writes_both_files_and_no_temporaries(tmp_path: Path) -> None:
    html = write_report(_report(), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.md"]
    assert html.read_text().startswith("<!doctype html>")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="Debian's chromium is not installed (make test installs it where apt-get can)",
)
def test_report_renders_its_plots_and_tables_in_headless_chromium(tmp_path: Path) -> None:
    html = write_report(_report(), tmp_path)
    command = [
        str(_chromium()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        html.as_uri(),
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    match = re.search(r"data-rendered=\"([^\"]+)\"", dom)
    assert match, "the page's load handler did not run"
    rendered = json.loads(match.group(1).replace("&quot;", '"'))
    assert rendered == {"images": 1, "decoded": 1, "tables": 1}
    assert "1 shown" not in dom and "2 shown" in dom
