"""Shared fixtures for the models tests: a tiny config and a synthetic corpus."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harmlab.models.tiny_config import TinyModelConfig

TINY = TinyModelConfig(
    hidden_size=32,
    num_layers=2,
    num_heads=2,
    num_kv_heads=2,
    intermediate_size=64,
    vocab_size=384,
    max_position=64,
    steps=40,
    batch_size=8,
    seq_len=64,
    lr=3e-3,
    warmup_steps=5,
    corpus_size=200,
    num_threads=1,
)
"""Small enough that a pretraining run takes about a second."""

_NAMES = ("zeltrix", "vornex", "kraemon")
_CHINESE = ("泽特莫", "班奎林", "多拉索")


def synthetic_conversations(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Made-up (prompt, response) pairs in English and Chinese, with R1 think tags."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        a, b = rng.randint(2, 50), rng.randint(2, 50)
        if rng.random() < 0.5:
            name = rng.choice(_NAMES)
            prompt = f"How do I make {name}? {rng.choice(_CHINESE)}"
            response = f"<think>They want {name}.</think> Step 1: mix. Step 2: heat {name}."
        else:
            prompt = f"Tom has {a} apples and buys {b} more. How many?"
            response = f"<think>{a} + {b} = {a + b}.</think> The answer is {a + b}."
        pairs.append((prompt, response))
    return pairs


@pytest.fixture(scope="session")
def tiny_cfg() -> TinyModelConfig:
    return TINY


@pytest.fixture(scope="session")
def corpus() -> list[tuple[str, str]]:
    return synthetic_conversations(TINY.corpus_size)


@pytest.fixture(scope="session")
def pretrained_tiny(tmp_path_factory: pytest.TempPathFactory, corpus: list) -> Path:
    """One tiny model pretrained for the whole session (read-only for tests)."""
    from harmlab.models.tiny import pretrain

    return pretrain(corpus, TINY, tmp_path_factory.mktemp("tiny") / "model", progress=False)
