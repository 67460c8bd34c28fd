"""Writing files so that a crash never leaves one half-written, with the user's permissions.

    harmlab card --model tiny          # runs/cards/tiny.json, written through atomic_write_json

Every file harmlab produces for the user (cards, configs, reports) is written to a temporary
file in the same folder and renamed into place; a rename within one file system is atomic.
Append-only logs (metrics.jsonl, EvalLog) instead flush one complete line at a time.

Temporary files and folders are created private (0600 / 0700) by `tempfile`; before they are
renamed into place they get the mode an ordinary `open` or `mkdir` would have given them under
the user's umask, so a colleague on the same machine can read reports and models whenever the
user's umask lets them. A write that fails (read-only folder, full disk) is one line naming
the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harmlab import HarmlabError


def current_umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it (and set it back)
    os.umask(mask)
    return mask


def user_file_mode() -> int:
    """The mode `open(path, 'w')` gives a new file under the current umask."""
    return 0o666 & ~current_umask()


def user_folder_mode() -> int:
    """The mode `mkdir` gives a new folder under the current umask."""
    return 0o777 & ~current_umask()


def write_error(path: Path, error: OSError) -> HarmlabError:
    """One line for a failed write: which file, and the system's reason."""
    reason = error.strerror or str(error)
    return HarmlabError(f"cannot write '{path}': {reason}")


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` atomically, creating parent folders."""
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, user_file_mode())
        os.replace(tmp, path)
    except OSError as error:
        raise write_error(path, error) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)  # already renamed away on success
    return path


def atomic_write_json(path: str | Path, payload: Any) -> Path:
    """Write `payload` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
