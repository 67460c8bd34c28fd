"""What every command module shares: consoles and the model option."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
error_console = Console(stderr=True)

ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="Model reference: 'tiny', 'smollm2', a local HF folder or run directory, or a hub id "
        "(hub ids need --allow-network).",
    ),
]


def load(ref: str) -> tuple[Any, Any]:
    """Load a model reference with a spinner ('tiny' pretrains on first use)."""
    import harmlab.models.embedded  # noqa: F401  (registers 'tiny')
    from harmlab.models.resolve import load_model

    with console.status(f"loading {ref}"):
        return load_model(ref)
