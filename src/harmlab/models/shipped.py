"""The base model the project pretrained, shipped in the package as versioned weights.

    harmlab pretrain                        # installs them into the cache when they match (seconds)
    harmlab pretrain --from-scratch         # pretrains instead (minutes): reproduces them
    python -m harmlab.models.shipped        # maintainers: ship the cached default base model

Pretraining the default tiny model is about 3.3M trained tokens at ~15 MFLOP each: ten minutes
on a shared 2-core CPU, and its step already runs at a large share of the CPU's matmul speed,
so no kernel makes it 90 s; smaller models and schedules did not learn the world (README, "The
embedded base model"). Issue 14 therefore allows what this module does: the weights of the
default world's base model (world seed 0, the default `TinyModelConfig`) travel with the code,
in float32 exactly as pretraining wrote them (8.7 MB; bf16 would halve that but round every
weight, and a stage keyed by this base model would then mean other weights on a machine that
pretrained it), and are installed into the very cache folder `harmlab pretrain` would have
written.

They are used only for exactly the inputs they were trained on: the manifest (`shipped.json`)
records the cache payload (world version and seed, base behaviour), the whole config and a
SHA-256 of the pretraining corpus itself, and all three must equal the caller's, so another
world seed, a rotated world, another config, or a world whose generator changed without a
version bump pretrains as before. The manifest also holds a small behaviour card of the shipped
weights (`measure_check_card`), which `tests/models/test_shipped.py` measures again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harmlab.files import atomic_write_json
from harmlab.models.folders import atomic_folder
from harmlab.models.tiny_config import TinyModelConfig

SHIPPED_ROOT = Path(__file__).with_name("shipped_base")
"""Package data: one folder per shipped model (weights, tokenizer, configs, manifest), named as
its cache folder (`tiny-<key>`): the default world's base model and its distillation student."""
MANIFEST = "shipped.json"
"""What the shipped weights were trained on, and their check card."""
COPIED_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "pretrain.json",
    MANIFEST,
)
"""Files installed unchanged beside the weights (pretrain.json is the original run's report)."""
WEIGHTS = "model.safetensors"


def corpus_digest(conversations: Sequence[tuple[str, str]]) -> str:
    """SHA-256 of the pretraining corpus, in order: the inputs, not just their version label.

    >>> corpus_digest([("a", "b")]) == corpus_digest([("a", "b")]) != corpus_digest([("ab", "")])
    True
    """
    digest = hashlib.sha256()
    for prompt, response in conversations:
        digest.update(json.dumps([prompt, response], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def shipped_folder(target: Path) -> Path:
    """Where the package would ship the model whose cache folder is `target`."""
    return SHIPPED_ROOT / target.name


def shipped_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of the shipped weights in `folder`, or None when there are none."""
    path = folder / MANIFEST
    if not path.is_file() or not (folder / WEIGHTS).is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def manifest_matches(
    manifest: dict[str, Any], payload: dict[str, Any], cfg: TinyModelConfig
) -> bool:
    """True when the shipped weights were trained for this cache payload and config."""
    same_payload = _as_json(manifest.get("payload")) == _as_json(payload)
    return same_payload and manifest.get("config") == asdict(cfg)


def _as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def install_shipped(
    target: Path,
    payload: dict[str, Any],
    cfg: TinyModelConfig,
    conversations: Sequence[tuple[str, str]],
    folder: Path | None = None,
) -> bool:
    """Install the shipped weights (from `folder`, by default the package's for `target`) into
    `target` if they fit these exact inputs.

    Returns False (nothing written) when there are none or they were trained on anything
    else: another payload, config or corpus.
    """
    folder = folder or shipped_folder(target)
    manifest = shipped_manifest(folder)
    if manifest is None or not manifest_matches(manifest, payload, cfg):
        return False
    if manifest.get("corpus_sha256") != corpus_digest(conversations):
        return False
    weights = hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()
    if weights != manifest.get("weights_sha256"):  # damaged package data: pretrain instead
        return False
    with atomic_folder(target) as tmp:
        for name in (*COPIED_FILES, WEIGHTS):
            shutil.copyfile(folder / name, tmp / name)
    return True


def write_shipped(
    source: Path,
    payload: dict[str, Any],
    cfg: TinyModelConfig,
    conversations: Sequence[tuple[str, str]],
    check_card: dict[str, Any],
    folder: Path | None = None,
) -> Path:
    """Ship the pretrained model in `source`: its weights as they are, its files, the manifest
    (into `folder`, by default the package's folder for it)."""
    folder = folder or shipped_folder(source)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (*COPIED_FILES[:-1], WEIGHTS):
        shutil.copyfile(source / name, folder / name)
    manifest = {
        "payload": payload,
        "config": asdict(cfg),
        "corpus_sha256": corpus_digest(conversations),
        "cache_folder": source.name,
        "weights_sha256": hashlib.sha256((source / WEIGHTS).read_bytes()).hexdigest(),
        "check_card": check_card,
    }
    atomic_write_json(folder / MANIFEST, manifest)
    return folder


CHECK_METRICS = ("harmful_compliance", "refusal", "over_refusal", "format_validity")
"""Headline rates of the check card compared between the manifest and a fresh measurement."""


def measure_check_card(model_folder: Path, world_seed: int = 0) -> dict[str, Any]:
    """A small seeded behaviour card of the model in `model_folder` (float32, sampled).

    Small enough for a test (one batch of 32 prompts), fixed enough to compare: the same
    weights give the same card on a CPU, up to a rare token sampled differently after float
    rounding, which moves a rate by one sample. It catches weights that install wrongly (a
    dtype, a tied head, a tokenizer), not small changes of behaviour: the full card does that.
    """
    import torch

    from harmlab.evaluation.card import CardConfig, behaviour_card
    from harmlab.evaluation.summary import plain
    from harmlab.models.resolve import load_model
    from harmlab.world import SafetyWorld

    config = CardConfig(
        harmful=16, held_out_per_axis=0, capability_per_axis=0, borderline=8,
        benign_per_difficulty=2, world_seed=world_seed,
    )  # fmt: skip
    model, tokenizer = load_model(str(model_folder), dtype=torch.float32)
    card, _ = behaviour_card(model, tokenizer, SafetyWorld(world_seed), config)
    metrics = plain(card)
    return {name: metrics[name] for name in CHECK_METRICS}


def main() -> None:
    """Ship the cached default world's base model and student (world seed 0, default configs)."""
    from harmlab import HarmlabError
    from harmlab.models.embedded import STUDENT_CONFIG, base_model_payload, tiny_model_folder
    from harmlab.models.folders import is_complete_model_folder
    from harmlab.world import SafetyWorld, pretrain_conversations

    world = SafetyWorld(0)
    for cfg in (TinyModelConfig(), STUDENT_CONFIG):
        source = tiny_model_folder(0, cfg)
        if not is_complete_model_folder(source) or (source / MANIFEST).is_file():
            raise HarmlabError(
                f"'{source}' is not a fresh pretrain: run harmlab pretrain --from-scratch"
            )
        conversations = pretrain_conversations(world, cfg.corpus_size, seed=cfg.seed)
        folder = write_shipped(source, base_model_payload(world), cfg, conversations, {})
        manifest = json.loads((folder / MANIFEST).read_text())
        manifest["check_card"] = measure_check_card(folder)
        atomic_write_json(folder / MANIFEST, manifest)
        print(f"shipped {source.name} to {folder}")


if __name__ == "__main__":
    main()
