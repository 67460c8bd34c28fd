"""The training tests' policy: the micro architecture, pretrained long enough to have a signal.

The session `micro_model` (60 pretraining steps) writes mostly noise: R1's format reward is
almost never earned, so GRPO has nothing to amplify. `micro_policy` is the same architecture
and corpus with 400 steps on one thread (about 10 s): a quarter of its samples are well formed,
which leaves RL room to improve in a few dozen steps. Nothing about the world is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from harmlab.models.tiny_config import TinyModelConfig

POLICY = TinyModelConfig(
    hidden_size=48,
    num_layers=2,
    num_heads=2,
    num_kv_heads=2,
    intermediate_size=96,
    vocab_size=512,
    max_position=256,
    steps=400,
    batch_size=8,
    seq_len=128,
    warmup_steps=20,
    corpus_size=3000,
    num_threads=1,
)
"""The session micro model's architecture (tests/conftest.py), trained 400 steps."""


@pytest.fixture(scope="session")
def micro_policy(build_once: Callable[[str, Callable[[Path], Path]], Path]) -> Path:
    """The policy, pretrained once per run (shared by the xdist workers); read-only."""
    from harmlab.models.tiny import pretrain
    from harmlab.world import SafetyWorld, pretrain_conversations

    def build(folder: Path) -> Path:
        corpus = pretrain_conversations(SafetyWorld(0), POLICY.corpus_size)
        return pretrain(corpus, POLICY, folder, progress=False)

    return build_once("micro-policy", build)


@pytest.fixture()
def one_thread() -> Iterator[None]:
    """One torch thread for the test (tiny models step faster; the result does not depend on it)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
