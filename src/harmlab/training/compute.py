"""The compute meter: wall time per phase, tokens, a FLOPs estimate and peak memory.

    harmlab train grpo --config configs/grpo-after-sft.yaml    # compute/* fields in metrics.jsonl

FLOPs follow Kaplan et al. (arXiv 2001.08361): about 6·N·D to train on D tokens (forward and
backward) and 2·N·D to generate D tokens, N the non-embedding-agnostic parameter count (we
count every parameter, as the tiny model's embeddings are a large share of it and are used).
Phases: `generation` (rollouts or probe sampling), `scoring` (rewards), `update` (the rest of
an optimizer step: log-probs, loss, backward, optimizer). Totals are cumulative over the run;
on resume they continue from the last kept metrics record.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch


def train_flops(n_params: int, tokens: int) -> float:
    """About 6·N·D: forward (2ND) and backward (4ND) over D tokens.

    >>> train_flops(1_000, 10)
    60000.0
    """
    return 6.0 * n_params * tokens


def generation_flops(n_params: int, tokens: int) -> float:
    """About 2·N·D: one forward pass per generated token.

    >>> generation_flops(1_000, 10)
    20000.0
    """
    return 2.0 * n_params * tokens


def peak_memory_mib() -> float:
    """Peak accelerator memory when on CUDA, else the process's peak resident set size."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


@dataclass
class ComputeMeter:
    """Cumulative compute of one run."""

    n_params: int
    seconds: dict[str, float] = field(
        default_factory=lambda: {"generation": 0.0, "scoring": 0.0, "update": 0.0}
    )
    tokens_generated: int = 0
    tokens_trained: int = 0
    _nested: float = 0.0

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase; time spent in a nested phase is not counted twice in `update`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            if name != "update":
                self._nested += elapsed

    @contextmanager
    def step(self) -> Iterator[None]:
        """Time a whole optimizer step; what its nested phases did not use counts as `update`."""
        self._nested = 0.0
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start - self._nested
            self.seconds["update"] += max(elapsed, 0.0)

    def snapshot(self) -> dict[str, Any]:
        """Flat `compute/*` fields for a metrics record."""
        out: dict[str, Any] = {f"compute/{k}_s": round(v, 4) for k, v in self.seconds.items()}
        out["compute/tokens_generated"] = self.tokens_generated
        out["compute/tokens_trained"] = self.tokens_trained
        out["compute/flops_train"] = train_flops(self.n_params, self.tokens_trained)
        out["compute/flops_generation"] = generation_flops(self.n_params, self.tokens_generated)
        out["compute/peak_memory_mib"] = round(peak_memory_mib(), 1)
        return out

    def restore(self, record: dict[str, Any]) -> None:
        """Continue the totals of a metrics record (on resume)."""
        for key in list(self.seconds):
            self.seconds[key] = float(record.get(f"compute/{key}_s", 0.0))
        self.tokens_generated = int(record.get("compute/tokens_generated", 0))
        self.tokens_trained = int(record.get("compute/tokens_trained", 0))
