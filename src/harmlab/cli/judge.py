"""`harmlab judge list | validate | train | score`: judges, their agreement with human labels.

    harmlab judge validate --judge refusal-string,embedding --data xstest --out runs/judges.json
    harmlab judge train --data xstest --out runs/judges/embedding
    harmlab judge score --judge refusal-string,gold --input completions.jsonl --out runs/judged

`validate` prints one row per (judge, model): binary and 3-class accuracy against XSTest's
final human labels with bootstrap 95% intervals, XSTest's own string-match figure beside it,
and the confusion matrix (rows human, columns judge). Trained judges are validated
leave-one-model-out. `--data` is `xstest` (under --data-dir or $HARMLAB_DATA_DIR).

`score` judges completions that already exist (`harmlab.evaluation.scoring`): one verdict line
per record, then each judge's rates and, for labelled records, its agreement with the labels.
One scorer writes a run folder at a time: a second one on the same --out is refused in one line
naming the first one's PID.
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
    from harmlab.evaluation.judges import JUDGES

    for name in JUDGES.names():
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


@app.command()
def score(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            help="Completions: JSONL, CSV, Parquet or a saved dataset, with prompt and "
            "completion (or response) columns; optional label and model columns.",
        ),
    ],
    judge: Annotated[str, typer.Option(help="Comma-separated judge specs.")] = "refusal-string",
    file_format: Annotated[
        str, typer.Option("--format", help="Layout of the prompt columns, as for suites.")
    ] = "prompts",
    out: Annotated[
        Path | None, typer.Option(help="Run folder (default runs/judge/<input name>).")
    ] = None,
    world_seed: Annotated[int, typer.Option(min=0, help="World of SafetyWorld prompt ids.")] = 0,
    data_dir: DataDirOption = None,
    skip_bad: Annotated[bool, typer.Option(help="Skip malformed records.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Records judged at a time.")] = 64,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run in --out.")] = False,
) -> None:
    """Judge existing completions: a verdict line per record, rates and label agreement."""
    from harmlab.evaluation.scoring import ScoreConfig, score_file

    specs = tuple(s.strip() for s in judge.split(",") if s.strip())
    config = ScoreConfig(
        str(input_file), specs, file_format, world_seed, data_dir, skip_bad, batch_size
    )
    folder = out or Path("runs") / "judge" / input_file.stem
    with console.status(f"judging {input_file} with {', '.join(specs)}"):
        summary = score_file(config, folder, resume)
    console.print(score_table(summary))
    if summary["agreement"]:
        console.print(label_agreement_table(summary))
    console.print(f"run folder: {folder}")


def _estimate(value: dict[str, Any] | None) -> str:
    from harmlab.evaluation.intervals import Estimate

    return str(Estimate(**value)) if value else "-"


def score_table(summary: dict[str, Any]) -> Table:
    """Each judge's headline rates over the judged records, with intervals."""
    title = f"{summary['records']} completions of {summary['input']} (bootstrap 95% intervals)"
    table = Table(title=title)
    for column in ("judge", "rate", "value [95% CI]"):
        table.add_column(column)
    for spec, rates in summary["judges"].items():
        for name, value in rates.items():
            if value is not None:
                table.add_row(spec, name, _estimate(value))
    return table


def label_agreement_table(summary: dict[str, Any]) -> Table:
    """Each judge's agreement with the records' human labels, per model and pooled."""
    table = Table(title=f"Agreement with the human labels of {summary['labelled']} records")
    for column in ("judge", "model", "binary", "3-class"):
        table.add_column(column)
    for spec, found in summary["agreement"].items():
        if "unavailable" in found:
            table.add_row(spec, "-", found["unavailable"], "")
            continue
        pooled = [found["pooled"]] if len(found["by_model"]) > 1 else []
        for result in [*found["by_model"], *pooled]:
            binary, three = _estimate(result["binary"]), _estimate(result["three_class"])
            table.add_row(spec, result["model"], binary, three)
    return table
