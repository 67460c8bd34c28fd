from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from harmlab.models.base import base_model_folder, ensure_base_model
from harmlab.models.tiny_config import TinyModelConfig

PAYLOAD = {"world": "safety", "version": 1, "seed": 0}


def test_second_call_hits_the_cache_without_building_the_corpus(
    tiny_cfg: TinyModelConfig, corpus: list, isolated_cache: Path
) -> None:
    calls: list[int] = []

    def factory() -> list[tuple[str, str]]:
        calls.append(1)
        return corpus

    cfg = replace(tiny_cfg, steps=3)
    first = ensure_base_model(factory, PAYLOAD, cfg, progress=False)
    second = ensure_base_model(factory, PAYLOAD, cfg, progress=False)
    assert first == second
    assert first.parent == isolated_cache / "models" and first.name.startswith("tiny-")
    assert calls == [1], "the second call retrained instead of reusing the cache"
    assert (first / "model.safetensors").is_file()


def test_incomplete_cache_entry_is_rebuilt(tiny_cfg: TinyModelConfig, corpus: list) -> None:
    cfg = replace(tiny_cfg, steps=2)
    partial = base_model_folder(PAYLOAD, cfg)
    partial.mkdir(parents=True)
    (partial / "config.json").write_text("{}")
    folder = ensure_base_model(lambda: corpus, PAYLOAD, cfg, progress=False)
    assert folder == partial and (folder / "model.safetensors").is_file()


def test_cache_key_changes_with_the_world_and_with_the_config(tiny_cfg: TinyModelConfig) -> None:
    folder = base_model_folder(PAYLOAD, tiny_cfg)
    assert base_model_folder(PAYLOAD, tiny_cfg) == folder
    assert base_model_folder({**PAYLOAD, "version": 2}, tiny_cfg) != folder
    assert base_model_folder(PAYLOAD, replace(tiny_cfg, seed=1)) != folder


def test_cache_lookup_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys; from harmlab.models.base import ensure_base_model; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_importing_harmlab_makes_openmp_wait_passively_unless_the_user_chose() -> None:
    code = "import os, harmlab; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "PASSIVE", done.stderr
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "ACTIVE", done.stderr
