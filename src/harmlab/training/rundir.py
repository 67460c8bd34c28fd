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
so the steps in metrics.jsonl stay contiguous and unique whatever moment the crash hit. A run
whose newest checkpoint is its last step trains nothing more: `final/` is kept (or exported from
that checkpoint when the crash came before it was written). A start that fails before any step
is recorded or checkpointed removes what it wrote (`abandon`), so the rerun is a fresh start.
With several processes only the main one (`is_main_process`) writes here.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
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
from harmlab.locks import FolderLock

RESUME_FREE = ("threads", "train.activation_checkpointing", "output_dir")
"""Config keys a resumed run may change: they affect speed, not results (`output_dir`: a run
folder may be moved, and it is resumed where it now is)."""

TRAINER_STATE_FILES = (
    "optimizer.pt",
    "scheduler.pt",
    "scaler.pt",
    "trainer_state.json",
    "training_args.bin",
    "rng_state*.pth",
)
"""What a checkpoint holds besides the model: what `--resume` needs, not what `final/` needs."""

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

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        """(step, folder) of the newest complete checkpoint, or None."""
        found = self.checkpoints()
        return found[-1] if found else None

    def check(self, config: Any, resume: bool) -> None:
        """Refuse now what `start` would refuse later, before any model is loaded: a fresh run
        into a folder that is not empty, or a resume with a different config."""
        if resume and (self.path / "config.yaml").is_file():
            self._check_same_config(config)
        elif self.path.exists() and any(self.path.iterdir()):
            raise HarmlabError(
                f"run directory '{self.path}' is not empty: pass --resume to continue it, "
                "or output_dir=<new folder>"
            )

    def start(
        self, config: Any, seed: int, resume: bool, world_size: int = 1
    ) -> tuple[int, Path] | None:
        """Prepare the folder; returns (step, folder) of the checkpoint to resume from (None:
        start fresh).

        `resume` of a run that wrote nothing yet (stopped while loading) is a fresh start, so
        the resume command printed after Ctrl-C always works. The folder stays locked against
        other processes while this RunDir lives (harmlab.locks).
        """
        self._lock = FolderLock(self.path, "a training run").acquire()
        self.check(config, resume)
        if resume and (self.path / "config.yaml").is_file():
            latest = self.latest_checkpoint()
            self.metrics.truncate_after(latest[0] if latest else 0)
            return latest
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / "config.yaml", config_to_yaml(config))
        atomic_write_json(self.path / "run.json", self._manifest(seed, world_size))
        return None

    def abandon(self) -> bool:
        """Remove what `start` wrote when no step was recorded or checkpointed; True if removed.

        Such a run holds nothing to resume, and its config.yaml would make a rerun fail ("not
        empty") or a resume with a corrected config fail ("different config").
        """
        if self.checkpoints() or self.metrics.records():
            return False
        for name in ("config.yaml", "run.json", "metrics.jsonl"):
            (self.path / name).unlink(missing_ok=True)
        if self.path.is_dir() and not any(self.path.iterdir()):
            self.path.rmdir()
        return True

    def _check_same_config(self, config: Any) -> None:
        from harmlab.config import build

        saved = self.path / "config.yaml"
        previous = build(type(config), read_yaml_mapping(saved), source=str(saved))
        changed = [k for k in config_differences(previous, config) if k not in RESUME_FREE]
        if changed:
            raise HarmlabError(f"--resume with a different config; changed: {', '.join(changed)}")

    @staticmethod
    def _manifest(seed: int, world_size: int) -> dict[str, Any]:
        return {
            "seed": seed,
            "world_size": world_size,
            "packages": package_versions(),
            "git_commit": git_commit(),
            "python": sys.version.split()[0],
            "command": sys.argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    @property
    def final_partial(self) -> Path:
        """Where `final/` is written before `publish_final` moves it in place."""
        return self.path / "final.partial"

    def publish_final(self) -> None:
        """Move `final.partial/` to `final/`: a crash leaves the old `final/` or none, never half
        of one (and a resume then exports it again from the last checkpoint)."""
        if self.final.exists():
            shutil.rmtree(self.final)
        self.final_partial.rename(self.final)

    def finished(self) -> dict[str, Any] | None:
        """The summary of a run that completed (`final/` and summary.json written), else None."""
        summary = self.path / "summary.json"
        if not summary.is_file() or not (self.final / "config.json").is_file():
            return None
        return dict(json.loads(summary.read_text(encoding="utf-8")))

    def finish(self, summary: dict[str, Any]) -> None:
        atomic_write_json(self.path / "summary.json", summary)


def model_files(checkpoint: Path) -> list[Path]:
    """The files of a checkpoint that make up the model (weights or adapter, config, tokenizer)."""
    return sorted(
        path
        for path in checkpoint.iterdir()
        if path.is_file() and not any(fnmatch.fnmatch(path.name, p) for p in TRAINER_STATE_FILES)
    )
