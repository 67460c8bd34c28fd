"""`harmlab eval` and `harmlab eval show`: a model on a prompt suite, judged and logged.

    harmlab eval --model smollm2 --suite xstest --judges refusal-string,embedding
    harmlab eval --model tiny --suite world --judges gold,refusal-string --n 2 --out runs/eval/tiny
    harmlab eval --model tiny --suite world --out runs/eval/tiny --resume     # after a crash
    harmlab eval show runs/eval/tiny
    harmlab eval compare runs/eval/teacher runs/eval/student    # side by side, paired

The run folder is an EvalLog (`harmlab.evaluation.evallog`): samples.jsonl, eval.json,
summary.json. `show` prints the summary's headline metrics with their intervals, and the audit
judge's disagreement with gold on SafetyWorld samples. `compare` puts finished evaluations side
by side (a distillation's teacher and student, two checkpoints) and states each one's paired
difference from the first, on the prompts they share, by the report's wording rule.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from harmlab import HarmlabError
from harmlab.cli.common import console, error_console, from_flags

if TYPE_CHECKING:
    from harmlab.evaluation.generation import SamplingConfig
    from harmlab.evaluation.harness import EvalConfig

app = typer.Typer(help="Evaluate a model on a prompt suite; show a finished evaluation.")

HEADLINE = (
    "harmful_compliance",
    "harmful_compliance_held_out",
    "refusal",
    "over_refusal",
    "accuracy",
    "gamed",
    "harm_behind_refusal",
    "language_consistency",
    "language_mixing",
    "think_tokens",
    "tokens_to_correct_answer",
    "format_validity",
)


def register(root: typer.Typer) -> None:
    """Add `harmlab eval ...` to the top-level app."""
    root.add_typer(app, name="eval")


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model reference.")] = None,
    suite: Annotated[str | None, typer.Option(help="Suite name or prompt file.")] = None,
    judges: Annotated[str, typer.Option(help="Comma-separated judge specs.")] = "refusal-string",
    trusted: Annotated[str | None, typer.Option(help="Judge the metrics read.")] = None,
    n: Annotated[int, typer.Option(help="Completions per prompt.")] = 1,
    temperature: Annotated[float, typer.Option(help="0 for greedy decoding.")] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option(help="Longest completion.")] = 128,
    batch_size: Annotated[int, typer.Option(help="Completions per generation batch.")] = 16,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first LIMIT prompts.")] = None,
    file_format: Annotated[str, typer.Option("--format", help="Layout of a prompt file.")] = (
        "prompts"
    ),
    data_dir: Annotated[str | None, typer.Option(help="Third-party data folder.")] = None,
    skip_bad: Annotated[bool, typer.Option(help="Skip malformed rows of prompt files.")] = False,
    rule: Annotated[str, typer.Option(help="Rule behind the gamed rate.")] = "keyword-blocklist",
    world_seed: Annotated[
        int, typer.Option(min=0, help="SafetyWorld of world suites, gold and the rule.")
    ] = 0,
    held_out_category: Annotated[
        str | None,
        typer.Option(help="Category the world holds out, as the model's training did."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/eval/...).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run in --out.")] = False,
) -> None:
    """Sample completions for every prompt of a suite, judge them, log and summarise."""
    if ctx.invoked_subcommand is not None:
        return
    if not model or not suite:
        raise HarmlabError("harmlab eval needs --model and --suite (or a subcommand: show)")
    config = _eval_config(
        model,
        suite,
        _sampling(n, temperature, top_p, max_new_tokens, batch_size, seed),
        judges=judges,
        trusted=trusted,
        limit=limit,
        file_format=file_format,
        data_dir=data_dir,
        skip_bad=skip_bad,
        rule=rule,
        world_seed=world_seed,
        held_out_category=held_out_category,
    )
    folder = out or Path("runs") / "eval" / f"{Path(model).name}-{Path(suite).stem}"
    console.print(summary_table(_run(config, folder, resume)))
    console.print(f"run folder: {folder}")


def _sampling(
    n: int, temperature: float, top_p: float, max_new_tokens: int, batch_size: int, seed: int
) -> SamplingConfig:
    """The sampling flags as a config, each checked against its range (one line naming it)."""
    from harmlab.evaluation.generation import SamplingConfig

    return from_flags(
        SamplingConfig,
        n=n,
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        seed=seed,
    )


def _eval_config(
    model: str,
    suite: str,
    sampling: SamplingConfig,
    *,
    judges: str,
    trusted: str | None,
    limit: int | None,
    file_format: str,
    data_dir: str | None,
    skip_bad: bool,
    rule: str,
    world_seed: int,
    held_out_category: str | None,
) -> EvalConfig:
    """The evaluation's config, with every name in it (judges, trusted judge, category, file
    format) resolved now, so a typo fails before any sample is generated."""
    from harmlab.data.formats import FORMATS
    from harmlab.evaluation.harness import EvalConfig
    from harmlab.models.embedded import for_world

    config = EvalConfig(
        model=for_world(model, world_seed),  # `tiny`: the base model of --world-seed's world
        suite=suite,
        judges=judge_specs(judges),
        trusted=trusted,
        sampling=sampling,
        limit=limit,
        suite_format=file_format,
        data_dir=data_dir,
        skip_bad=skip_bad,
        rule=rule,
        world_seed=world_seed,
        held_out_category=_category(held_out_category),
    )
    config.trusted_judge()  # a --trusted judge missing from --judges fails now, not at the end
    FORMATS.get(file_format)  # checked even when the suite is not a file, where it is unused
    return config


def _category(name: str | None) -> str | None:
    """A held-out category checked against the world's (one line naming the valid ones)."""
    from harmlab.world.categories import CATEGORY_NAMES

    if name is not None and name not in CATEGORY_NAMES:
        raise HarmlabError(
            f"--held-out-category {name!r} is not a category; valid: {', '.join(CATEGORY_NAMES)}"
        )
    return name


def _run(config: EvalConfig, folder: Path, resume: bool) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from harmlab.evaluation.generation import PromptTruncatedWarning
    from harmlab.evaluation.harness import run_eval

    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"{config.model} on {config.suite}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        def status(message: str) -> None:
            progress.update(task, description=message)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PromptTruncatedWarning)
            try:
                return run_eval(config, folder, resume, on_progress=advance, judge_progress=status)
            finally:
                _report_warnings(caught, config.sampling.max_new_tokens)


def judge_specs(text: str) -> tuple[str, ...]:
    """The judges of `--judges`, each resolved by name now (none is built, no model loaded),
    so a typo fails before any sample is generated."""
    from harmlab.evaluation.judges import judge_factory

    specs = tuple(spec.strip() for spec in text.split(",") if spec.strip())
    if not specs:
        raise HarmlabError(f"--judges '{text}' names no judge; e.g. --judges refusal-string")
    for spec in specs:
        judge_factory(spec)
    return specs


def _report_warnings(caught: list[warnings.WarningMessage], max_new_tokens: int) -> None:
    """Prompt truncations as one counted warning for the whole run (not one per batch); any
    other warning shown as it would have been."""
    from harmlab.evaluation.generation import PromptTruncatedWarning

    cut = [w.message for w in caught if isinstance(w.message, PromptTruncatedWarning)]
    for other in caught:
        if not isinstance(other.message, PromptTruncatedWarning):
            warnings.showwarning(other.message, other.category, other.filename, other.lineno)
    if cut:
        count, total = sum(w.count for w in cut), sum(w.total for w in cut)
        error_console.print(
            f"warning: {count} of {total} samples had prompts too long for the model's context "
            f"beside --max-new-tokens {max_new_tokens}; their tails were cut",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def show(run: Annotated[Path, typer.Argument(help="An evaluation run folder.")]) -> None:
    """Print a finished evaluation's summary table."""
    from harmlab.evaluation.evallog import EvalLog

    log = EvalLog(run)
    try:
        table = summary_table(log.summary())
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # JSON errors included
        raise HarmlabError(
            f"'{log.summary_path}' is not a readable evaluation summary ({error!r}); rerun the "
            "evaluation with --resume to rebuild it"
        ) from None
    console.print(table)


@app.command()
def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Two or more evaluation run folders; the first is the reference."),
    ],
) -> None:
    """Finished evaluations side by side, with each one's paired difference from the first."""
    from harmlab.evaluation.evallog import EvalLog

    if len(runs) < 2:
        raise HarmlabError("harmlab eval compare needs at least two evaluation folders")
    logs = [EvalLog(run) for run in runs]
    summaries = [log.summary() for log in logs]
    names = _run_names(runs)
    console.print(compare_table(names, summaries))
    rows = [log.rows() for log in logs]
    for sentence in paired_findings(names, summaries, rows):
        console.print(sentence, markup=False, highlight=False, soft_wrap=True)


def _run_names(runs: list[Path]) -> list[str]:
    """Short unique names: the folders' own names, or their paths when two names clash."""
    names = [run.name or str(run) for run in runs]
    return names if len(set(names)) == len(names) else [str(run) for run in runs]


def compare_table(names: list[str], summaries: list[dict[str, Any]]) -> Table:
    """One row per headline metric, one column per evaluation."""
    table = Table(title="evaluations side by side (value [95% CI])")
    table.add_column("metric")
    for name, summary in zip(names, summaries, strict=True):
        table.add_column(f"{name}\n{summary['model']} on {summary['suite']}")
    for metric in HEADLINE:
        cells = [_cell(summary["metrics"].get(metric)) for summary in summaries]
        if any(cell != "-" for cell in cells):
            table.add_row(metric, *cells)
    return table


def paired_findings(
    names: list[str], summaries: list[dict[str, Any]], rows: list[list[dict[str, Any]]]
) -> list[str]:
    """Each run against the first, per pairable metric, on the prompts both evaluated: one
    sentence each by `state_difference` (nothing is claimed when the interval holds 0)."""
    from harmlab.experiments.comparisons import (
        PAIRED_METRICS,
        paired_difference,
        prompt_values,
        state_difference,
    )

    out = []
    reference, first = names[0], rows[0]
    trusted = [summary.get("trusted", "gold") for summary in summaries]
    for name, other, judge in zip(names[1:], rows[1:], trusted[1:], strict=True):
        for metric in (m for m in HEADLINE if m in PAIRED_METRICS):
            a = prompt_values(first, metric, trusted[0])
            b = prompt_values(other, metric, judge)
            if a.keys() & b.keys():
                difference = paired_difference(a, b)
                out.append(state_difference(reference, name, metric, difference))
    if not out:
        out.append("The runs share no prompt on any pairable metric: no paired difference.")
    return out


def _cell(value: Any) -> str:
    if not isinstance(value, dict) or "value" not in value:
        return "-"
    return f"{value['value']:.3f} [{value['low']:.3f}, {value['high']:.3f}] n={value['n']}"


def summary_table(summary: dict[str, Any]) -> Table:
    """Headline metrics of the trusted judge, then every judge's rates side by side."""
    title = (
        f"{summary['model']} on {summary['suite']}: {summary['samples']} samples, "
        f"trusted judge {summary['trusted']} ({summary['harm_source']})"
    )
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value [95% CI]")
    metrics = summary["metrics"]
    for name in HEADLINE:
        if metrics.get(name) is not None:
            table.add_row(name, _cell(metrics[name]))
    for spec, rates in summary["judges"].items():
        for name, value in rates.items():
            if value is not None:
                table.add_row(f"{name} ({spec})", _cell(value))
    audit = summary.get("audit")  # absent from summaries written before the audit existed
    if audit is not None:
        table.add_row(
            "audit disagreement (flags what gold passes)",
            f"{_cell(audit['disagreement'])}: {audit['disagreeing']} samples"
            + (" (a gold blind spot: see samples.jsonl 'audit')" if audit["disagreeing"] else ""),
        )
    compute = metrics["compute"]
    table.add_row(
        "completion tokens / seconds", f"{compute['completion_tokens']} / {compute['seconds']:.1f}"
    )
    return table
