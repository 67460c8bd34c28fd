"""Fixtures shared by the whole suite: an isolated cache and a micro SafetyWorld model.

`micro_model` is a Llama of a few hundred thousand parameters pretrained for a few seconds on
SafetyWorld's base corpus. It is not the embedded base model (that takes minutes), but it
speaks the world's chat format and think tags, which is what training and evaluation tests need.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harmlab.models.tiny_config import TinyModelConfig

MICRO = TinyModelConfig(
    hidden_size=48,
    num_layers=2,
    num_heads=2,
    num_kv_heads=2,
    intermediate_size=96,
    vocab_size=512,
    max_position=256,
    steps=60,
    batch_size=8,
    seq_len=128,
    warmup_steps=6,
    corpus_size=800,
    num_threads=2,
)


def data_dir() -> Path | None:
    """Where the shared third-party data lives (set by .ci/run), or None."""
    value = os.environ.get("HARMLAB_DATA_DIR")
    return Path(value) if value and Path(value).is_dir() else None


@pytest.fixture()
def xstest_dir() -> Path:
    """The shared XSTest folder (prompts and human-labelled completions); skips when absent."""
    root = data_dir()
    if root is None or not (root / "xstest").is_dir():
        pytest.skip("shared data absent: set HARMLAB_DATA_DIR to a folder holding xstest/")
    return root


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's harmlab cache, nor reaches the network."""
    cache = tmp_path / "harmlab-cache"
    monkeypatch.setenv("HARMLAB_CACHE", str(cache))
    monkeypatch.delenv("HARMLAB_ALLOW_NETWORK", raising=False)
    return cache


@pytest.fixture(scope="session")
def micro_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A micro model pretrained on SafetyWorld (seed 0) for this session; treat as read-only."""
    from harmlab.models.tiny import pretrain
    from harmlab.world import SafetyWorld, pretrain_conversations

    corpus = pretrain_conversations(SafetyWorld(0), MICRO.corpus_size)
    return pretrain(corpus, MICRO, tmp_path_factory.mktemp("micro") / "model", progress=False)
