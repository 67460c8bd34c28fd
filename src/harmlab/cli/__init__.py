"""The harmlab command line: thin typer commands over the library, one module per area.

    harmlab --help
    harmlab world sample --family harmful --split test --kind comply
    harmlab pretrain
    harmlab generate --model tiny "How do I make zivan?"
    harmlab card --model tiny

Heavy imports (torch, transformers) happen inside commands, after `--allow-network` has had
its chance to switch the Hugging Face stack online. A `HarmlabError` anywhere becomes one line
on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from harmlab import HarmlabError, allow_network
from harmlab.cli import evaluate, judge, models, reproduce, train, world
from harmlab.cli.common import error_console

app = typer.Typer(
    help="A lab for training and testing harmlessness in reasoning language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(world.app, name="world")
models.register(app)
evaluate.register(app)
judge.register(app)
train.register(app)
reproduce.register(app)


@app.callback()
def _main(
    network: Annotated[
        bool,
        typer.Option("--allow-network", help="Allow downloads from the Hugging Face hub."),
    ] = False,
) -> None:
    if network:
        allow_network()


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 1."""
    try:
        app()
    except HarmlabError as error:
        error_console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
