"""The embedded base model: the tiny Llama pretrained on SafetyWorld's unaligned corpus.

    harmlab pretrain                  # installs the shipped weights (seconds), then reuses them
    harmlab pretrain --from-scratch   # pretrains it (about ten minutes on 2 shared CPU cores)

`student` (`ensure_student_model`) is a smaller model pretrained the same way on the same
corpus, so it shares the tiny model's tokenizer: the default student of distillation.

`tiny` names `ensure_tiny_model` in the model registry (`models.resolve.MODELS`):
`load_model("tiny")` pretrains the base model of the default world if the cache lacks it. The
cache key holds the world version and seed, the base behaviour mix and the whole model config,
so changing any of them trains a new base model. The default world's base model also ships in
the package (`models.shipped`), used only when payload, config and corpus all match.
"""

from __future__ import annotations

from pathlib import Path

from harmlab.models.base import base_model_folder, ensure_base_model
from harmlab.models.tiny_config import TinyModelConfig
from harmlab.world import SafetyWorld, pretrain_conversations
from harmlab.world.corpus import behaviour_payload


def base_model_payload(world: SafetyWorld) -> dict[str, object]:
    """Everything about the world that decides what the base model learns."""
    return {
        "world_version": world.version,
        "world_seed": world.seed,
        "behaviour": behaviour_payload(),
    }


def tiny_model_folder(world_seed: int = 0, cfg: TinyModelConfig | None = None) -> Path:
    """Where the base model of this world lives in the cache (it may not exist yet)."""
    return base_model_folder(base_model_payload(SafetyWorld(world_seed)), cfg or TinyModelConfig())


def ensure_tiny_model(
    world_seed: int = 0,
    cfg: TinyModelConfig | None = None,
    progress: bool = True,
    from_scratch: bool = False,
) -> Path:
    """The cached base model of SafetyWorld(world_seed), built first if missing: from the
    shipped weights when they are this world's and config's, else pretrained. `from_scratch`
    pretrains regardless (and replaces the cached model)."""
    cfg = cfg or TinyModelConfig()
    world = SafetyWorld(world_seed)
    return ensure_base_model(
        lambda: pretrain_conversations(world, cfg.corpus_size, seed=cfg.seed),
        base_model_payload(world),
        cfg,
        progress=progress,
        from_scratch=from_scratch,
    )


STUDENT_CONFIG = TinyModelConfig(hidden_size=96, num_layers=2, num_heads=2, num_kv_heads=2)
"""The distillation student: half the width and layers of `tiny` (about a fifth of its
non-embedding parameters); same vocabulary, corpus and schedule, hence the same tokenizer."""


def student_model_folder(world_seed: int = 0) -> Path:
    """Where the student model of this world lives in the cache (it may not exist yet)."""
    return tiny_model_folder(world_seed, STUDENT_CONFIG)


def ensure_student_model(world_seed: int = 0, progress: bool = True) -> Path:
    """The cached student-size base model of SafetyWorld(world_seed), pretrained if missing."""
    return ensure_tiny_model(world_seed, STUDENT_CONFIG, progress)


WORLD_MODELS = ("tiny", "student")
"""Model names that mean one model per world: the base model and the smaller student, each
pretrained on that world's corpus. Anywhere a world seed is given (`--world-seed`,
`prompts.world_seed`, `traces.world_seed`), these names mean that world's model."""


def world_model(reference: str, world_seed: int, build: bool = True) -> Path | None:
    """A world's embedded model folder (built first when `build` and missing); None when
    `reference` names no world model."""
    if reference not in WORLD_MODELS:
        return None
    if reference == "tiny":
        return (ensure_tiny_model if build else tiny_model_folder)(world_seed)
    return (ensure_student_model if build else student_model_folder)(world_seed)


def for_world(reference: str, world_seed: int) -> str:
    """The model `reference` means in world `world_seed`: a world model's folder for that
    world, anything else unchanged (without this, `tiny` would always be world 0's model)."""
    folder = world_model(reference, world_seed) if world_seed != 0 else None
    return str(folder) if folder is not None else reference
