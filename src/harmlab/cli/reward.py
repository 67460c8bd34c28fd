"""`harmlab reward fit`: learned safety reward models fitted on a budget of gold labels.

    harmlab reward fit --labels 100,1000,10000 --out runs/rm
    # then, in a training config: {name: learned_safety, params: {path: runs/rm/labels-1000}}

One head per budget lands in `OUT/labels-N` (`harmlab.rewards.learned_fit.fit_label_budgets`); the
table shows each head's agreement with SafetyWorld's gold judge on a held-out draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harmlab import HarmlabError
from harmlab.cli.common import console

app = typer.Typer(help="Learned reward models: fit them on a budget of gold labels.")


def register(root: typer.Typer) -> None:
    """Add `harmlab reward ...` to the top-level app."""
    root.add_typer(app, name="reward")


def parse_budgets(text: str) -> list[int]:
    """`100,1000` as [100, 1000]; anything else is a one-line error naming --labels."""
    try:
        budgets = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise HarmlabError(f"--labels takes comma-separated integers, got '{text}'") from None
    if not budgets:
        raise HarmlabError("--labels is empty: give budgets such as 100,1000")
    return budgets


@app.command()
def fit(
    out: Annotated[Path, typer.Option(help="Folder; each budget's head goes to labels-N.")],
    labels: Annotated[str, typer.Option(help="Comma-separated label budgets.")] = "100,1000",
    world_seed: Annotated[int, typer.Option(min=0, help="SafetyWorld that labels.")] = 0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the labelled draw.")] = 0,
    held_out: Annotated[int, typer.Option(min=1, help="Held-out samples for agreement.")] = 500,
) -> None:
    """Fit a learned safety reward per label budget and report its agreement with gold."""
    from harmlab.rewards.learned_fit import fit_label_budgets

    budgets = parse_budgets(labels)
    with console.status(f"fitting {len(budgets)} heads on gold labels"):
        reports = fit_label_budgets(out, budgets, world_seed, seed, held_out)
    table = Table(title=f"Learned safety reward vs gold (world {world_seed}, held-out {held_out})")
    for column in ("labels", "agreement with gold", "gold-harmful share", "head"):
        table.add_column(column)
    for r in reports:
        folder = out / f"labels-{r.labels}"
        table.add_row(str(r.labels), f"{r.agreement:.3f}", f"{r.harmful_share:.2f}", str(folder))
    console.print(table)
