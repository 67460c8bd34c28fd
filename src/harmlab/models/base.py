"""The cached tiny base model: pretrain it once per (world, config), reuse it everywhere after.

    harmlab pretrain                # builds it; every experiment on `tiny` then finds it cached

The cache entry is `cache_root()/models/tiny-<key>`, where the key hashes the caller's payload
(the world's version and seed) together with the whole `TinyModelConfig`, so a changed world
or config pretrains a new model instead of reusing a stale one. A cache hit imports neither
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
) -> Path:
    """The cached base model's folder, pretraining it first when it is missing or incomplete."""
    cfg = cfg or TinyModelConfig()
    folder = base_model_folder(cache_key_payload, cfg)
    if is_complete_model_folder(folder):
        return folder
    # Imported here so that a cache hit never pays for importing torch and transformers.
    from harmlab.models.tiny import pretrain

    return pretrain(conversations_factory(), cfg, folder, progress=progress)
