"""The training configs harmlab ships, as package data, and how a `--config` value finds one.

    harmlab train sft --config sft-cold-start                 # a shipped config, by name
    harmlab train grpo --config configs/grpo-after-sft.yaml   # a file (in a checkout, `configs`
                                                               # links to this folder)

Shipped configs resolve through `importlib.resources`, so `harmlab reproduce` and
`harmlab train --config NAME` work from a plain (non-editable) install in an empty folder. A
value that names an existing file always wins over a shipped name.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from harmlab import HarmlabError


def shipped_training_configs() -> list[str]:
    """Names of the shipped training configs, sorted (e.g. 'sft-cold-start')."""
    folder = resources.files(__name__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def training_config_path(name_or_path: str | Path) -> Path:
    """A training config given as a file path, or by the name of a shipped one.

    >>> training_config_path("sft-cold-start").name
    'sft-cold-start.yaml'
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    name = str(name_or_path).removesuffix(".yaml")
    shipped = resources.files(__name__) / f"{name}.yaml"
    if "/" not in name and shipped.is_file():
        return Path(str(shipped))  # a regular install: package data are plain files
    raise HarmlabError(
        f"training config '{name_or_path}' is neither a file nor a shipped config; "
        f"shipped: {', '.join(shipped_training_configs())}"
    )
