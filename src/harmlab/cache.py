"""Where harmlab keeps what it builds once and reuses: pretrained base models, converted weights.

The root is `$HARMLAB_CACHE` when set, else `~/.cache/harmlab`. Entries are keyed by a content
hash of everything that determines them, so a changed world or config never reuses a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """The cache folder (created on first use)."""
    root = Path(os.environ.get("HARMLAB_CACHE", Path.home() / ".cache" / "harmlab"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def content_key(payload: Any) -> str:
    """A short stable hash of a JSON-serialisable payload."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
