"""Fixtures shared by the whole suite: an isolated cache and a micro SafetyWorld model.

`micro_model` is a Llama of a few hundred thousand parameters pretrained for a few seconds on
SafetyWorld's base corpus. It is not the embedded base model (that takes minutes), but it
speaks the world's chat format and think tags, which is what training and evaluation tests need.

`pytest` runs on two xdist workers (pyproject's addopts; `-n 0` runs in one process). Each
worker uses one torch thread, so two workers share two cores without oversubscribing them, and
the micro models are pretrained once per run, not once per worker (`build_once`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from harmlab.locks import FolderLock
from harmlab.models.folders import is_complete_model_folder
from harmlab.models.tiny_config import TinyModelConfig

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: one thread each (a tiny model's step gains little from two),
    # and child processes (the CLI tests) inherit the same limit.
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the `slow` tests first (otherwise in collection order): a long end-to-end test that
    started last would end the run alone on one worker while the other sits idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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


BuildOnce = Callable[[str, Callable[[Path], Path]], Path]
"""build_once(name, build): the model folder `build(folder)` wrote, built once per run."""


@pytest.fixture(scope="session")
def build_once(tmp_path_factory: pytest.TempPathFactory) -> BuildOnce:
    """Build a model folder once per pytest run, shared by every xdist worker.

    The folder lies in the run's base temp directory (the workers' common parent); the first
    worker builds it under a folder lock while the others wait, then reuse it. Without xdist
    it is the session's own temp directory, so nothing is shared between two runs.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent

    def built(name: str, build: Callable[[Path], Path]) -> Path:
        folder = root / "shared-models" / name
        with FolderLock(folder, f"building the test model {name}").acquire(wait=True):
            if is_complete_model_folder(folder):
                return folder
            return build(folder)

    return built


@pytest.fixture(scope="session")
def micro_model(build_once: BuildOnce) -> Path:
    """A micro model pretrained on SafetyWorld (seed 0) for this session; treat as read-only."""
    from harmlab.models.tiny import pretrain
    from harmlab.world import SafetyWorld, pretrain_conversations

    def build(folder: Path) -> Path:
        corpus = pretrain_conversations(SafetyWorld(0), MICRO.corpus_size)
        return pretrain(corpus, MICRO, folder, progress=False)

    return build_once("micro", build)
