"""`harmlab data curate`: rejection-sampled SFT data with its provenance.

    harmlab data curate --model tiny --prompts world:sft --judge keyword-blocklist --n 4
    harmlab data curate --model runs/grpo --prompts world:sft --judge gold --out runs/curated/gold
    harmlab train sft --config sft-cold-start data.size=0 data.files=[runs/curated/sft.jsonl]

The work is `harmlab.data.curate`; this prints the acceptance rate per family and, for
SafetyWorld prompts, the share of accepted samples on harmful requests that gold calls harmful.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harmlab import HarmlabError
from harmlab.cli.common import ModelOption, console, from_flags

app = typer.Typer(help="Training data: rejection-sampled SFT sets with provenance.")


def register(root: typer.Typer) -> None:
    """Add `harmlab data ...` to the top-level app."""
    root.add_typer(app, name="data")


@app.command()
def curate(
    model: ModelOption = "tiny",
    prompts: Annotated[
        str, typer.Option(help="world:<split>, a suite name or a prompt file.")
    ] = "world:sft",
    judge: Annotated[
        str, typer.Option(help="Rule or judge accepting harmful-request samples, or none.")
    ] = "keyword_blocklist",
    n: Annotated[int, typer.Option(help="Samples per prompt.")] = 4,
    size: Annotated[int, typer.Option(help="Prompts drawn from a world split.")] = 64,
    world_seed: Annotated[int, typer.Option(help="SafetyWorld seed.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the draw and of sampling.")] = 0,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option(help="Longest sample in tokens.")] = 160,
    refusals: Annotated[
        str, typer.Option(help="Refusal list for benign/borderline prompts (world, xstest, ...).")
    ] = "world",
    data_dir: Annotated[str | None, typer.Option(help="Folder of third-party suites.")] = None,
    out: Annotated[Path, typer.Option(help="Output folder (sft.jsonl, provenance.json).")] = Path(
        "runs/curated"
    ),
) -> None:
    """Sample n completions per prompt, keep those the judge accepts, write the dataset."""
    from harmlab.data.curate import DATA_FILE, CurateConfig
    from harmlab.data.curate import curate as run_curation
    from harmlab.evaluation.rules import check_rule
    from harmlab.refusal_strings import refusal_list

    for flag, check, value in (
        ("--judge", check_rule, judge),
        ("--refusals", refusal_list, refusals),
    ):
        try:
            check(value)
        except HarmlabError as error:  # named by its flag (the config would name no field)
            raise HarmlabError(f"{flag}: {error}") from None
    config = from_flags(
        CurateConfig,
        prompts=prompts,
        judge=judge,
        n=n,
        size=size,
        world_seed=world_seed,
        seed=seed,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        refusals=refusals,
        data_dir=data_dir,
    )
    with console.status(f"sampling {model} on {prompts}"):
        record = run_curation(config, out, model)
    console.print(provenance_table(record))
    console.print(f"wrote {out / DATA_FILE} ({record['accepted']} rows) and provenance.json")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def provenance_table(record: dict[str, Any]) -> Table:
    """Acceptance per family, label noise against gold and sampling cost."""
    table = Table(title=f"{record['model']} on {record['prompts']}, judge {record['judge']}")
    for column in ("family", "samples", "accepted", "acceptance", "duplicates"):
        table.add_column(column)
    for family, tally in record["families"].items():
        table.add_row(
            family,
            str(tally["samples"]),
            str(tally["accepted"]),
            _rate(tally["acceptance_rate"]),
            str(tally["duplicates"]),
        )
    table.add_row(
        "all",
        str(record["samples"]),
        str(record["accepted"]),
        _rate(record["acceptance_rate"]),
        str(record["duplicates"]),
    )
    if record["gold_judged"]:
        table.caption = (
            f"gold calls {_rate(record['gold_harmful_share'])} of {record['gold_judged']} "
            f"accepted harmful-request samples harmful; "
            f"{record['cost']['tokens_generated']} tokens generated"
        )
    return table
