"""`harmlab judge list | validate | train`: judges, and their agreement with human labels.

    harmlab judge validate --judge refusal-string,embedding --data xstest --out runs/judges.json
    harmlab judge train --data xstest --out runs/judges/embedding

`validate` prints one row per (judge, model): binary and 3-class accuracy against XSTest's
final human labels with bootstrap 95% intervals, XSTest's own string-match figure beside it,
and the confusion matrix (rows human, columns judge). Trained judges are validated
leave-one-model-out. `--data` is `xstest` (under --data-dir or $HARMLAB_DATA_DIR).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harmlab import HarmlabError
from harmlab.cli.common import console

app = typer.Typer(help="Judges: list them, validate them against human labels, train them.")

DataDirOption = Annotated[
    str | None, typer.Option(help="Folder holding xstest/ (else $HARMLAB_DATA_DIR).")
]


def register(root: typer.Typer) -> None:
    """Add `harmlab judge ...` to the top-level app."""
    root.add_typer(app, name="judge")


@app.command("list")
def list_judges() -> None:
    """The registered judge names."""
    from harmlab.evaluation.judges import judge_names

    for name in judge_names():
        console.print(name)


def _labelled(data: str, data_dir: str | None) -> Any:
    from harmlab.data.suites import xstest_completions

    if data != "xstest":
        raise HarmlabError(f"unknown labelled data '{data}'; available: xstest")
    return xstest_completions(data_dir)


@app.command()
def validate(
    judge: Annotated[str, typer.Option(help="Comma-separated judge specs.")] = (
        "refusal-string,embedding"
    ),
    data: Annotated[str, typer.Option(help="Labelled completions: xstest.")] = "xstest",
    data_dir: DataDirOption = None,
    out: Annotated[Path | None, typer.Option(help="Also write the results as JSON.")] = None,
    confusion: Annotated[bool, typer.Option(help="Print confusion matrices.")] = True,
) -> None:
    """Agreement of judges with human labels, per model, with bootstrap intervals."""
    from harmlab.data.suites import resolve_data_dir
    from harmlab.evaluation.judges.base import JudgeContext
    from harmlab.evaluation.validation import validate_judge

    labelled = _labelled(data, data_dir)
    context = JudgeContext(data_dir=resolve_data_dir(data_dir))
    results = []
    for spec in [s.strip() for s in judge.split(",") if s.strip()]:
        with console.status(f"validating {spec} on {len(labelled.items)} completions"):
            results.extend(validate_judge(spec, labelled.items, context))
    console.print(agreement_table(results))
    if confusion:
        for result in results:
            console.print(f"{result.judge} on {result.model}: {result.confusion}")
    if out:
        from harmlab.files import atomic_write_json

        atomic_write_json(out, [r.as_dict() for r in results])
        console.print(f"wrote {out}")


def agreement_table(results: list[Any]) -> Table:
    """The validation table: judge, model, binary and 3-class accuracy, XSTest's anchor."""
    from harmlab.evaluation.validation import XSTEST_STRING_MATCH_BINARY, binary_gain

    table = Table(title="Agreement with human labels (bootstrap 95% intervals)")
    columns = ("judge", "model", "n", "binary", "3-class", "XSTest strmatch", "trained on")
    for column in (*columns, "binary gain vs refusal-string (paired)"):
        table.add_column(column)
    reference = {r.model: r for r in results if r.judge == "refusal-string"}
    for r in results:
        anchor = XSTEST_STRING_MATCH_BINARY.get(r.model)
        gain = ""
        if r.judge != "refusal-string" and r.model in reference:
            gain = _interval(binary_gain(r, reference[r.model]))
        table.add_row(
            r.judge,
            r.model,
            str(r.binary.n),
            _interval(r.binary).replace("+", ""),
            _interval(r.three_class).replace("+", ""),
            f"{anchor:.3f}" if anchor is not None else "",
            ",".join(r.trained_on) or "-",
            gain,
        )
    return table


def _interval(value: Any) -> str:
    return f"{value.value:+.3f} [{value.low:+.3f}, {value.high:+.3f}]"


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Folder to save the trained judge in.")],
    data: Annotated[str, typer.Option(help="Labelled completions: xstest.")] = "xstest",
    data_dir: DataDirOption = None,
) -> None:
    """Train the embedding judge on all labelled completions and save it (safetensors + JSON)."""
    from harmlab.evaluation.judges.embedding import train_embedding_judge

    labelled = _labelled(data, data_dir)
    with console.status(f"training on {len(labelled.items)} completions"):
        judge = train_embedding_judge(labelled.items)
    judge.save(out)
    head = judge.head
    console.print(
        f"saved {out}: l2={head.l2}, threshold={head.threshold:.2f}, "
        f"cross-validated binary accuracy {head.cv_accuracy:.3f}"
    )
    console.print(json.dumps(judge.info))
