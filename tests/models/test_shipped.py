"""The shipped base model: used for exactly its inputs, installed bit for bit, card unchanged."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from harmlab.models import shipped
from harmlab.models.base import ensure_base_model
from harmlab.models.embedded import STUDENT_CONFIG, base_model_payload, tiny_model_folder
from harmlab.models.shipped import (
    MANIFEST,
    corpus_digest,
    install_shipped,
    manifest_matches,
    measure_check_card,
    shipped_folder,
    shipped_manifest,
    write_shipped,
)
from harmlab.models.tiny import pretrain
from harmlab.models.tiny_config import TinyModelConfig
from harmlab.world import SafetyWorld, pretrain_conversations

PAYLOAD = {"world": "safety", "version": 1, "seed": 0}


@pytest.fixture(scope="module")
def micro_shipped(
    tmp_path_factory: pytest.TempPathFactory, tiny_cfg: TinyModelConfig, corpus: list
) -> tuple[Path, TinyModelConfig]:
    """A micro model pretrained for PAYLOAD and shipped into a folder of its own."""
    cfg = replace(tiny_cfg, steps=2)
    source = pretrain(corpus, cfg, tmp_path_factory.mktemp("pretrained") / "tiny-x", False)
    folder = write_shipped(source, PAYLOAD, cfg, corpus, {}, tmp_path_factory.mktemp("shipped"))
    return folder, cfg


def test_installs_only_for_the_exact_payload_config_and_corpus(
    micro_shipped: tuple[Path, TinyModelConfig], corpus: list, tmp_path: Path
) -> None:
    folder, cfg = micro_shipped
    mismatches = {
        "world seed": ({**PAYLOAD, "seed": 1}, cfg, corpus),
        "config": (PAYLOAD, replace(cfg, seed=1), corpus),
        "corpus": (PAYLOAD, cfg, corpus[:-1]),
    }
    for what, (payload, config, conversations) in mismatches.items():
        target = tmp_path / what
        assert not install_shipped(target, payload, config, conversations, folder), what
        assert not target.exists(), what
    assert install_shipped(tmp_path / "exact", PAYLOAD, cfg, corpus, folder)


def test_installed_weights_are_the_pretrained_ones_bit_for_bit(
    micro_shipped: tuple[Path, TinyModelConfig], corpus: list, tmp_path: Path
) -> None:
    folder, cfg = micro_shipped
    install_shipped(tmp_path / "model", PAYLOAD, cfg, corpus, folder)
    shipped = (folder / "model.safetensors").read_bytes()
    installed = (tmp_path / "model" / "model.safetensors").read_bytes()
    assert installed == shipped
    manifest = json.loads((tmp_path / "model" / MANIFEST).read_text())
    assert manifest["weights_sha256"] == hashlib.sha256(shipped).hexdigest()
    tensors = load_file(tmp_path / "model" / "model.safetensors")
    assert all(tensor.dtype == torch.float32 for tensor in tensors.values())
    assert manifest["corpus_sha256"] == corpus_digest(corpus)


def test_cache_miss_installs_shipped_weights_and_from_scratch_pretrains(
    micro_shipped: tuple[Path, TinyModelConfig],
    corpus: list,
    isolated_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, cfg = micro_shipped
    monkeypatch.setattr(shipped, "shipped_folder", lambda target: folder)
    installed = ensure_base_model(lambda: corpus, PAYLOAD, cfg, progress=False)
    assert (installed / MANIFEST).is_file(), "a matching shipped model was pretrained again"
    again = ensure_base_model(lambda: corpus, PAYLOAD, cfg, progress=False, from_scratch=True)
    assert again == installed and not (again / MANIFEST).is_file()
    other = ensure_base_model(lambda: corpus, PAYLOAD, replace(cfg, seed=3), progress=False)
    assert not (other / MANIFEST).is_file()


@pytest.mark.parametrize("cfg", [TinyModelConfig(), STUDENT_CONFIG], ids=["tiny", "student"])
def test_shipped_weights_are_this_codes_default_models(cfg: TinyModelConfig) -> None:
    """Fails when the world, its corpus or a default config changed since the weights were
    shipped: pretrain with `harmlab pretrain --from-scratch` (and the student), then `python -m
    harmlab.models.shipped` (until then the model is pretrained on first use, never stale)."""
    manifest = shipped_manifest(shipped_folder(tiny_model_folder(0, cfg)))
    assert manifest is not None, "the package ships no such model"
    world = SafetyWorld(0)
    assert manifest_matches(manifest, base_model_payload(world), cfg)
    conversations = pretrain_conversations(world, cfg.corpus_size, seed=cfg.seed)
    assert manifest["corpus_sha256"] == corpus_digest(conversations)


@pytest.mark.slow
def test_installed_shipped_model_has_the_shipped_check_card(tmp_path: Path) -> None:
    cfg, world = TinyModelConfig(), SafetyWorld(0)
    target = tmp_path / tiny_model_folder(0, cfg).name
    manifest = shipped_manifest(shipped_folder(target))
    assert manifest is not None
    conversations = pretrain_conversations(world, cfg.corpus_size, seed=cfg.seed)
    assert install_shipped(target, base_model_payload(world), cfg, conversations)
    card = measure_check_card(target)
    for name, expected in manifest["check_card"].items():
        one_sample = 1 / expected["n"] + 1e-9  # a token sampled differently after rounding
        assert card[name]["n"] == expected["n"], name
        assert abs(card[name]["value"] - expected["value"]) <= one_sample, name


def test_damaged_shipped_weights_are_not_installed(
    micro_shipped: tuple[Path, TinyModelConfig], corpus: list, tmp_path: Path
) -> None:
    import shutil

    folder, cfg = micro_shipped
    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)
    assert not install_shipped(tmp_path / "model", PAYLOAD, cfg, corpus, damaged)
    assert not (tmp_path / "model").exists()
