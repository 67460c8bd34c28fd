"""Run directories: everything a training run needs to be reproduced, inspected and resumed.

    harmlab train grpo --config configs/grpo-after-sft.yaml            # creates runs/grpo-after-sft
    harmlab train grpo --config configs/grpo-after-sft.yaml --resume   # after a crash (kill -9)

Layout:

    config.yaml        the resolved config (defaults, file and overrides merged)
    run.json           seed, package versions, git commit, command line, start time
    metrics.jsonl      one JSON record per optimizer step, appended and flushed as it happens
    checkpoint-N/      TRL/transformers checkpoints (safetensors weights, optimizer, RNG state)
    final/             the trained model and tokenizer as a Hugging Face folder
    summary.json       end-of-run totals

Resuming restarts from the newest checkpoint and first drops metrics records of steps after it,
so the steps in metrics.jsonl stay contiguous and unique whatever moment the crash hit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.config import config_differences, config_to_yaml, read_yaml_mapping
from harmlab.files import atomic_write_json, atomic_write_text

RESUME_FREE = ("threads", "train.activation_checkpointing")
"""Config keys a resumed run may change: they affect speed, not results."""

PACKAGES = ("harmlab", "torch", "transformers", "trl", "peft", "datasets", "accelerate")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run's numbers depend on."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(where: Path | None = None) -> str | None:
    """The commit of the source tree harmlab is imported from (None outside a git checkout)."""
    where = where or Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


class MetricsLog:
    """metrics.jsonl: one flushed JSON line per record, each carrying its `step`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False, default=str)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def records(self) -> list[dict[str, Any]]:
        """Complete records (a torn last line from a crash is skipped)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def truncate_after(self, step: int) -> list[dict[str, Any]]:
        """Keep only records of steps up to `step` (atomically); returns what is kept."""
        kept = [r for r in self.records() if int(r.get("step", 0)) <= step]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
        atomic_write_text(self.path, text)
        return kept


@dataclass
class RunDir:
    """One run's folder."""

    path: Path

    @property
    def metrics(self) -> MetricsLog:
        return MetricsLog(self.path / "metrics.jsonl")

    @property
    def final(self) -> Path:
        return self.path / "final"

    def checkpoints(self) -> list[tuple[int, Path]]:
        """(step, folder) of complete checkpoints, oldest first."""
        found = []
        for folder in self.path.glob("checkpoint-*"):
            step = folder.name.removeprefix("checkpoint-")
            if step.isdigit() and (folder / "trainer_state.json").is_file():
                found.append((int(step), folder))
        return sorted(found)

    def start(self, config: Any, seed: int, resume: bool) -> Path | None:
        """Prepare the folder; returns the checkpoint to resume from (None: start fresh)."""
        if resume:
            return self._prepare_resume(config)
        if self.path.exists() and any(self.path.iterdir()):
            raise HarmlabError(
                f"run directory '{self.path}' is not empty: pass --resume to continue it, "
                "or output_dir=<new folder>"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / "config.yaml", config_to_yaml(config))
        atomic_write_json(self.path / "run.json", self._manifest(seed))
        return None

    def _prepare_resume(self, config: Any) -> Path | None:
        saved = self.path / "config.yaml"
        if not saved.is_file():
            raise HarmlabError(f"nothing to resume: '{saved}' does not exist")
        from harmlab.config import build

        previous = build(type(config), read_yaml_mapping(saved), source=str(saved))
        changed = [k for k in config_differences(previous, config) if k not in RESUME_FREE]
        if changed:
            raise HarmlabError(f"--resume with a different config; changed: {', '.join(changed)}")
        checkpoints = self.checkpoints()
        step = checkpoints[-1][0] if checkpoints else 0
        self.metrics.truncate_after(step)
        return checkpoints[-1][1] if checkpoints else None

    @staticmethod
    def _manifest(seed: int) -> dict[str, Any]:
        return {
            "seed": seed,
            "packages": package_versions(),
            "git_commit": git_commit(),
            "python": sys.version.split()[0],
            "command": sys.argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def finish(self, summary: dict[str, Any]) -> None:
        atomic_write_json(self.path / "summary.json", summary)
