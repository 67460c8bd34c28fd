"""What every command module shares: consoles, the model option, configs built from flags."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

console = Console()
error_console = Console(stderr=True)

T = TypeVar("T")

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
    from harmlab.models.resolve import load_model

    with console.status(f"loading {ref}"):
        return load_model(ref)


def flag_name(key: str) -> str:
    """The flag a config field is set by: `top_p` -> `--top-p`."""
    return "--" + key.replace("_", "-")


def from_flags(cls: type[T], **values: Any) -> T:
    """A config dataclass from flag values, checked against its field ranges before any work;
    a value out of range is one line naming its flag and the allowed range."""
    from harmlab.config import build

    return build(cls, values, source="", name=flag_name)
