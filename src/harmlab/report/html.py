"""One self-contained HTML file: plots embedded as data URIs, tables, a transcript browser.

    harmlab reproduce --quick       # writes runs/report/report.html (open it in any browser)

No external assets, fonts or scripts: the file renders offline and can be mailed or archived
as is. The only script filters the transcript browser by verdict and, on load, records in
`body[data-rendered]` how many plots decoded and how many tables exist, which is what the
headless-browser test reads.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

from harmlab.report.model import Figure, Report, Section, Table, Transcript, format_cell

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #1d1d1f; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f5f5f7; }
caption { caption-side: bottom; color: #666; font-size: 0.9em; padding-top: 0.3em; }
figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption { color: #444; font-size: 0.9em; }
dl.provenance { display: grid; grid-template-columns: max-content auto; gap: 0 1em;
                color: #555; font-size: 0.9em; }
dl.provenance dd { margin: 0; font-family: ui-monospace, monospace; }
article.transcript { border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1em;
                     margin: 0.7em 0; }
article.transcript pre { white-space: pre-wrap; background: #f8f8f8; padding: 0.4em; margin: 0; }
.verdict { font-weight: bold; } .kind { color: #666; }
"""

_SCRIPT = """
function filterTranscripts() {
  const wanted = document.getElementById('verdict-filter').value;
  let shown = 0;
  for (const item of document.querySelectorAll('article.transcript')) {
    const visible = wanted === 'all' || item.dataset.verdict === wanted;
    item.hidden = !visible;
    if (visible) shown += 1;
  }
  document.getElementById('transcript-count').textContent = shown + ' shown';
}
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  document.body.dataset.rendered = JSON.stringify({
    images: images.length,
    decoded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
    tables: document.querySelectorAll('table').length,
  });
  const filter = document.getElementById('verdict-filter');
  if (filter) { filter.addEventListener('change', filterTranscripts); filterTranscripts(); }
});
"""


def render_html(report: Report) -> str:
    """The report as one HTML document."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        _provenance(report.provenance.items()),
        "<h2>Headline</h2>",
        _table(report.headline),
        *(_section(section) for section in report.sections),
        _transcripts(report.transcripts),
        f"<script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _provenance(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="provenance">{rows}</dl>' if rows else ""


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in ("", *table.columns))
    body = "".join(
        f"<tr><th>{escape(row)}</th>"
        + "".join(f"<td>{escape(format_cell(table.cell(row, c)))}</td>" for c in table.columns)
        + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    alt = escape(figure.caption, quote=True)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
    )


def _section(section: Section) -> str:
    parts = [f"<section><h2>{escape(section.title)}</h2>"]
    parts += [f"<p>{escape(paragraph)}</p>" for paragraph in section.paragraphs]
    parts += [_figure(figure) for figure in section.figures]
    parts += [_table(table) for table in section.tables]
    return "\n".join([*parts, "</section>"])


def _transcripts(transcripts: Sequence[Transcript]) -> str:
    if not transcripts:
        return ""
    verdicts = sorted({t.verdict for t in transcripts})
    options = "".join(
        f'<option value="{escape(v, quote=True)}">{escape(v)}</option>' for v in verdicts
    )
    return "\n".join(
        [
            '<section id="transcripts"><h2>Transcripts</h2>',
            '<label>verdict <select id="verdict-filter"><option value="all">all</option>'
            f'{options}</select></label> <span id="transcript-count"></span>',
            *(_transcript(t) for t in transcripts),
            "</section>",
        ]
    )


def _transcript(t: Transcript) -> str:
    kind = f' <span class="kind">({escape(t.kind)})</span>' if t.kind else ""
    return (
        f'<article class="transcript" data-verdict="{escape(t.verdict, quote=True)}">'
        f'<div><span class="verdict">{escape(t.verdict)}</span>{kind} · {escape(t.source)}</div>'
        f"<p><b>prompt</b></p><pre>{escape(t.prompt)}</pre>"
        f"<details><summary>reasoning</summary><pre>{escape(t.think)}</pre></details>"
        f"<p><b>answer</b></p><pre>{escape(t.answer)}</pre></article>"
    )
