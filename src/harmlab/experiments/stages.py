"""Cached experiment stages: a stage that already ran with the same inputs is reused, not rerun.

    harmlab reproduce --quick       # a second call with nothing changed reuses every stage

A stage is one unit of work of an experiment (pretrain, cold-start SFT, a GRPO arm, an
evaluation). Its key hashes its name, its resolved config, its seed and the keys of the stages
it reads from, so a change anywhere upstream invalidates everything downstream, and a stage
two experiments share (the cold-start SFT) runs once. A stage works inside its own folder and
is complete only when `stage.json` is written there, last and atomically, and records this
very stage (name, key, seed, upstream folders): a stage killed half-way, or a folder whose
marker says it was built from something else, is rerun (or resumed, if its work knows how) on
the next call, never mistaken for done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harmlab.cache import content_key
from harmlab.files import atomic_write_json
from harmlab.locks import FolderLock

MARKER = "stage.json"


@dataclass(frozen=True)
class Stage:
    """What a stage is: its name, resolved config, seed and the stages it depends on."""

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    inputs: Sequence[Stage] = ()

    @property
    def key(self) -> str:
        """A hash of everything that determines the stage's output, upstream stages included."""
        return content_key(
            {
                "name": self.name,
                "config": self.config,
                "seed": self.seed,
                "inputs": [stage.key for stage in self.inputs],
            }
        )

    @property
    def folder_name(self) -> str:
        return f"{self.name}-s{self.seed}-{self.key}"


@dataclass(frozen=True)
class StageResult:
    """A completed stage: its folder, whether it was reused, and how long it took when it ran."""

    folder: Path
    reused: bool
    seconds: float


class StageStore:
    """Stage folders under one root (by default `runs/stages`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def folder(self, stage: Stage) -> Path:
        return self.root / stage.folder_name

    def is_done(self, stage: Stage) -> bool:
        """The stage completed: its marker exists and records this very stage."""
        return self._recorded(stage) is not None

    def _recorded(self, stage: Stage) -> dict[str, Any] | None:
        """The stage's marker, when it matches the stage's key and upstream stages."""
        try:
            recorded = json.loads((self.folder(stage) / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(recorded, dict):
            return None
        expected = _marker(stage, 0.0)
        same = all(recorded.get(k) == expected[k] for k in ("name", "key", "seed", "inputs"))
        return recorded if same else None

    def run(self, stage: Stage, work: Callable[[Path], None]) -> StageResult:
        """Reuse the stage if complete; otherwise call `work(folder)` and mark it complete.

        The stage folder is locked while its work runs (harmlab.locks): another `reproduce`
        reaching the same stage is refused with this process's PID, not run twice into it.
        """
        folder = self.folder(stage)
        recorded = self._recorded(stage)
        if recorded is not None:
            return StageResult(folder, reused=True, seconds=float(recorded.get("seconds", 0.0)))
        with FolderLock(folder, f"stage {stage.folder_name}"):
            recorded = self._recorded(stage)  # finished while we were deciding
            if recorded is not None:
                seconds = float(recorded.get("seconds", 0.0))
                return StageResult(folder, reused=True, seconds=seconds)
            folder.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            work(folder)
            seconds = time.perf_counter() - start
            atomic_write_json(folder / MARKER, _marker(stage, seconds))
        return StageResult(folder, reused=False, seconds=seconds)


def _marker(stage: Stage, seconds: float) -> dict[str, Any]:
    return {
        "name": stage.name,
        "key": stage.key,
        "seed": stage.seed,
        "config": dict(stage.config),
        "inputs": [s.folder_name for s in stage.inputs],
        "seconds": seconds,
    }
