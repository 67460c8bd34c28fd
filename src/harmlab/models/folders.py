"""Model folders on disk: writing one atomically, and telling a complete one from a partial one.

    harmlab pretrain                # writes the tiny base model through `atomic_folder`

A model folder is built in a temporary sibling and renamed into place only once every file is
written, so a crash or Ctrl-C never leaves a half-written folder that a later run would load.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
"""Files whose presence (one of them) says a Hugging Face folder holds its weights."""


def is_complete_model_folder(folder: Path) -> bool:
    """True when `folder` holds a config and safetensors weights (sharded or not)."""
    has_weights = any((folder / name).is_file() for name in WEIGHT_FILES)
    return has_weights and (folder / "config.json").is_file()


@contextmanager
def quiet_hf_progress() -> Iterator[None]:
    """Hide transformers' and datasets' tqdm bars (v5 shows one for writing even a single weight
    shard, datasets one per map over a training set); harmlab shows its own progress."""
    import datasets
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled(), datasets.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled[0]:
            hf_logging.enable_progress_bar()
        if was_enabled[1]:
            datasets.enable_progress_bars()


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `target`; on success rename it to `target`.

    An existing `target` is replaced. If another process finished the same target first
    (the rename finds it non-empty and complete), its folder is kept and ours discarded: both
    were built from the same inputs.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        _replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace(tmp: Path, target: Path) -> None:
    """Rename tmp to target, moving an existing target aside first (then deleting it)."""
    if target.exists():
        stale = target.with_name(f".{target.name}.{os.getpid()}.old")
        target.rename(stale)
        shutil.rmtree(stale)
    try:
        tmp.rename(target)
    except OSError:
        # Another process renamed its own copy into place between our two renames.
        if not is_complete_model_folder(target):
            raise
