"""Model folders on disk: writing one atomically, and telling a complete one from a partial one.

    harmlab pretrain                # writes the tiny base model through `atomic_folder`

A model folder is built in a temporary sibling and renamed into place only once every file is
written, so a crash or Ctrl-C never leaves a half-written folder that a later run would load.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.files import user_folder_mode
from harmlab.locks import FolderLock

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
"""Files whose presence (one of them) says a Hugging Face folder holds its weights."""

LOADABLE_WEIGHTS = (*WEIGHT_FILES, "pytorch_model.bin", "pytorch_model.bin.index.json")
"""Weight files `from_pretrained` can load from a folder (the last two are pickles)."""

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
"""Files one of which a folder needs for its tokenizer to load."""

MAX_SAFETENSORS_HEADER = 100 << 20
"""The safetensors format's own limit on its JSON header (100 MB)."""


def is_complete_model_folder(folder: Path) -> bool:
    """True when `folder` holds a config and safetensors weights (sharded or not)."""
    has_weights = any((folder / name).is_file() for name in WEIGHT_FILES)
    return has_weights and (folder / "config.json").is_file()


def check_model_folder(folder: Path) -> None:
    """Refuse, in one line naming the file, a model folder that cannot load: no or invalid
    config.json, no weights or tokenizer, a safetensors file that is truncated or corrupt.

    Cheap (reads JSON and safetensors headers, never the tensors), so loading a broken folder
    fails here rather than as a traceback from deep inside transformers.
    """
    config = _json_object(folder / "config.json", "the model's config")
    if "model_type" not in config and "architectures" not in config:
        raise HarmlabError(f"'{folder / 'config.json'}' names no model_type or architectures")
    weights = [name for name in LOADABLE_WEIGHTS if (folder / name).is_file()]
    if not weights:
        raise HarmlabError(
            f"model folder '{folder}' has a config.json but no weights "
            f"(expected one of: {', '.join(LOADABLE_WEIGHTS)})"
        )
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise HarmlabError(
            f"model folder '{folder}' has no tokenizer (expected one of: "
            f"{', '.join(TOKENIZER_FILES)})"
        )
    for shard in _safetensors_files(folder, weights[0]):
        check_safetensors(shard)


def _json_object(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise HarmlabError(f"'{path}' ({what}) does not exist")
    try:
        value = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise HarmlabError(f"'{path}' ({what}) is not valid JSON: {error}") from None
    except OSError as error:
        raise HarmlabError(f"'{path}' ({what}) cannot be read: {error.strerror}") from None
    if not isinstance(value, dict):
        raise HarmlabError(f"'{path}' ({what}) must hold a JSON object")
    return value


def _safetensors_files(folder: Path, weights: str) -> list[Path]:
    if weights == "model.safetensors":
        return [folder / weights]
    if weights != "model.safetensors.index.json":
        return []  # pickled weights: transformers checks them as it loads
    index = _json_object(folder / weights, "the weights' index")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise HarmlabError(f"'{folder / weights}' has no weight_map")
    shards = sorted({str(name) for name in weight_map.values()})
    missing = [name for name in shards if not (folder / name).is_file()]
    if missing:
        raise HarmlabError(f"'{folder / weights}' names '{missing[0]}', which does not exist")
    return [folder / name for name in shards]


def check_safetensors(path: Path) -> None:
    """Refuse a safetensors file whose header is unreadable or whose tensors run past its end.

    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> _ = bad.write_bytes(b"\\x10\\x00")
    >>> check_safetensors(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    harmlab.HarmlabError: '...model.safetensors' is not a safetensors file (truncated: 2 bytes)
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise HarmlabError(f"'{path}' is not a safetensors file (truncated: {size} bytes)")
        length = int.from_bytes(head, "little")
        if length > min(MAX_SAFETENSORS_HEADER, size - 8):
            raise HarmlabError(f"'{path}' is not a safetensors file (bad header length)")
        try:
            header = json.loads(handle.read(length).decode("utf-8"))
            ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise HarmlabError(f"'{path}' is not a safetensors file (corrupt header)") from None
    if 8 + length + max(ends, default=0) > size:
        raise HarmlabError(
            f"'{path}' is truncated: its header describes {8 + length + max(ends)} bytes, the "
            f"file has {size} (an interrupted copy or download?)"
        )


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

    A `target` that was there before we started is replaced (an interrupted or stale build).
    One that another process completed while we were building is kept and ours discarded:
    both were built from the same inputs, and replacing it would make it vanish for a moment
    under any reader. The swap holds the target's lock, so two swaps never interleave. The
    folder gets the mode `mkdir` would give it under the user's umask (tempfile makes 0700).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    complete_before = is_complete_model_folder(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, user_folder_mode())
        with FolderLock(target, "writing this model folder").acquire(wait=True):
            if complete_before or not is_complete_model_folder(target):
                _replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace(tmp: Path, target: Path) -> None:
    """Rename tmp to target, moving an existing target aside first (then deleting it)."""
    if target.exists():
        stale = target.with_name(f".{target.name}.{os.getpid()}.old")
        target.rename(stale)
        shutil.rmtree(stale)
    tmp.rename(target)
