"""EvalLog: one JSON line per sample, written as it is produced, and a resumable run folder.

    harmlab eval --model tiny --suite world --out runs/eval/tiny-world           # writes it
    harmlab eval --model tiny --suite world --out runs/eval/tiny-world --resume  # continues it
    pd.read_json("runs/eval/tiny-world/samples.jsonl", lines=True)               # reads it

A run folder holds `eval.json` (the resolved config), `samples.jsonl` (one record per
(prompt, sample index), keyed `"<prompt id>#<index>"`) and `summary.json` (metrics, written
atomically at the end). Lines are appended, flushed and fsynced one batch at a time, so a crash
loses at most the batch in flight; a line torn by a crash (no trailing newline) is cut off when
the log is reopened. Resuming skips every key already present, so a resumed run has exactly
one record per sample; a resume with a different config is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.files import atomic_write_json
from harmlab.locks import FolderLock

SAMPLES = "samples.jsonl"
SUMMARY = "summary.json"
CONFIG = "eval.json"


def sample_key(prompt_id: str, index: int) -> str:
    """The log key of a prompt's index-th sample."""
    return f"{prompt_id}#{index}"


class EvalLog:
    """The files of one evaluation run."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.samples_path = self.folder / SAMPLES
        self.summary_path = self.folder / SUMMARY
        self.config_path = self.folder / CONFIG

    def start(self, config: dict[str, Any], resume: bool) -> set[str]:
        """Open the run for writing; the keys already logged (empty for a new run).

        Takes the folder's lock for as long as this EvalLog lives: a second evaluation of the
        same folder, in another process, is refused with the first one's PID.
        """
        self._lock = FolderLock(self.folder, "an evaluation writing there").acquire()
        if self.samples_path.exists() and not resume:
            raise HarmlabError(
                f"'{self.folder}' already holds an evaluation; pass --resume to continue it "
                "or choose another --out"
            )
        config = json.loads(json.dumps(config))  # compare as saved (tuples become lists)
        if resume and self.config_path.is_file():
            try:
                saved = dict(json.loads(self.config_path.read_bytes().decode("utf-8")))
            except (ValueError, TypeError) as error:
                raise HarmlabError(
                    f"cannot resume: '{self.config_path}' is corrupt ({error})"
                ) from None
            changed = sorted(
                k for k in saved.keys() | config.keys() if saved.get(k) != config.get(k)
            )
            if changed:
                raise HarmlabError(
                    f"cannot resume '{self.folder}': its config differs in {', '.join(changed)}"
                )
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.config_path, config)
        self.repair()
        return {row["key"] for row in self.rows()}

    def repair(self) -> int:
        """Cut off a torn last line; returns the bytes removed."""
        if not self.samples_path.exists():
            return 0
        data = self.samples_path.read_bytes()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        with self.samples_path.open("r+b") as handle:
            handle.truncate(keep)
        return len(data) - keep

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append complete lines and force them to disk."""
        with self.samples_path.open("a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def rows(self) -> list[dict[str, Any]]:
        """Every complete record, first one per key (a torn last line is ignored)."""
        if not self.samples_path.exists():
            return []
        rows: dict[str, dict[str, Any]] = {}
        with self.samples_path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break
                row = json.loads(line)
                rows.setdefault(row["key"], row)
        return list(rows.values())

    def write_summary(self, summary: dict[str, Any]) -> Path:
        """summary.json, atomically."""
        return atomic_write_json(self.summary_path, summary)

    def summary(self) -> dict[str, Any]:
        """The saved summary, or a one-line error when the run has none yet."""
        if not self.summary_path.is_file():
            raise HarmlabError(
                f"'{self.folder}' has no {SUMMARY}: the run did not finish "
                "(resume it with --resume)"
            )
        return dict(json.loads(self.summary_path.read_text()))
