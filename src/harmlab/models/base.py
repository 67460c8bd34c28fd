"""The cached tiny base model: pretrain it once per (world, config), reuse it everywhere after.

    harmlab pretrain                # builds it; every experiment on `tiny` then finds it cached

The cache entry is `cache_root()/models/tiny-<key>`, where the key hashes the caller's payload
(the world's version and seed) together with the whole `TinyModelConfig`, so a changed world
or config pretrains a new model instead of reusing a stale one. On a miss, the default world's
base model is installed from the weights shipped in the package (`models.shipped`) when they
were trained on exactly these inputs; anything else is pretrained. A cache hit imports neither
torch nor transformers: it is a path check, so resolving `tiny` costs nothing once built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harmlab.cache import cache_root, content_key
from harmlab.models.folders import is_complete_model_folder
from harmlab.models.tiny_config import TinyModelConfig

ConversationsFactory = Callable[[], Sequence[tuple[str, str]]]
"""Builds the pretraining corpus as (prompt, response) pairs; called only on a cache miss."""


def base_model_folder(cache_key_payload: dict[str, Any], cfg: TinyModelConfig) -> Path:
    """Where the base model for this payload and config lives (or will live) in the cache."""
    key = content_key({"payload": cache_key_payload, "config": asdict(cfg)})
    return cache_root() / "models" / f"tiny-{key}"


def ensure_base_model(
    conversations_factory: ConversationsFactory,
    cache_key_payload: dict[str, Any],
    cfg: TinyModelConfig | None = None,
    progress: bool = True,
    from_scratch: bool = False,
) -> Path:
    """The cached base model's folder, built first when it is missing or incomplete.

    A missing model comes from the weights shipped in the package when they were trained on
    exactly this payload, config and corpus (`models.shipped`), else from pretraining.
    `from_scratch` pretrains even then, replacing a cached model: it reproduces shipped weights.
    """
    cfg = cfg or TinyModelConfig()
    folder = base_model_folder(cache_key_payload, cfg)
    if is_complete_model_folder(folder) and not from_scratch:
        return folder
    conversations = conversations_factory()
    # Imported here so that a cache hit never pays for importing torch and transformers.
    from harmlab.models.shipped import install_shipped

    if not from_scratch and install_shipped(folder, cache_key_payload, cfg, conversations):
        return folder
    from harmlab.models.tiny import pretrain

    return pretrain(conversations, cfg, folder, progress=progress)
