from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from harmlab import HarmlabError
from harmlab.models.chat import END, render_prompt
from harmlab.models.embedded import tiny_model_folder
from harmlab.models.tiny import (
    TinyModelConfig,
    build_model,
    cosine_lr_factor,
    pack_token_stream,
    pretrain,
)
from harmlab.models.tiny_config import training_flops_per_token
from harmlab.models.tokenizer import train_tokenizer


def test_packing_starts_with_end_marker_and_drops_the_ragged_tail() -> None:
    blocks = pack_token_stream([[5, 6, 0], [7, 0], [8, 9, 9, 0]], seq_len=4, end_id=0)
    assert blocks.tolist() == [[0, 5, 6, 0], [7, 0, 8, 9]]


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.1), (9, 1.0), (10, 1.0), (55, 0.55), (100, 0.1), (150, 0.1)],
)
def test_cosine_schedule_warms_up_then_decays_to_the_floor(step: int, expected: float) -> None:
    factor = cosine_lr_factor(step, total_steps=100, warmup_steps=10, min_ratio=0.1)
    assert factor == pytest.approx(expected)


def test_default_config_is_a_one_to_five_million_parameter_model(
    corpus: list[tuple[str, str]],
) -> None:
    cfg = TinyModelConfig()
    tokenizer = train_tokenizer(["x"], cfg.vocab_size)
    model = build_model(cfg, tokenizer)
    embedding_at_full_vocab = (cfg.vocab_size - len(tokenizer)) * cfg.hidden_size
    parameters = sum(p.numel() for p in model.parameters()) + embedding_at_full_vocab
    assert 1_000_000 < parameters < 5_000_000


@pytest.mark.parametrize(
    "changes",
    [{}, {"tie_embeddings": False}, {"num_heads": 4, "num_kv_heads": 2, "hidden_size": 48}],
)
def test_flops_per_token_is_six_per_multiplying_weight_plus_attention(
    tiny_cfg: TinyModelConfig, changes: dict[str, object]
) -> None:
    cfg = replace(tiny_cfg, **changes)  # type: ignore[arg-type]
    model = build_model(cfg, train_tokenizer(["x y z"], cfg.vocab_size))
    linear_weights = {
        id(module.weight): module.weight.numel()
        for module in model.modules()
        if isinstance(module, torch.nn.Linear)
    }
    attention = 12 * cfg.num_layers * cfg.hidden_size * cfg.seq_len
    expected = 6 * sum(linear_weights.values()) + attention
    assert training_flops_per_token(cfg, model.config.vocab_size) == expected


CHANGED_FIELDS = {
    "hidden_size": 256,
    "num_layers": 3,
    "num_heads": 8,
    "num_kv_heads": 2,
    "intermediate_size": 384,
    "vocab_size": 1024,
    "max_position": 256,
    "tie_embeddings": False,
    "steps": 700,
    "batch_size": 8,
    "seq_len": 128,
    "lr": 4e-3,
    "min_lr_ratio": 0.2,
    "warmup_steps": 40,
    "weight_decay": 0.0,
    "grad_clip": 0.5,
    "seed": 1,
    "corpus_size": 17_500,
    "bf16_autocast": True,
    "num_threads": 1,
}
"""A valid new value for every TinyModelConfig field (a new field must be added here)."""


def test_every_config_field_is_part_of_the_base_model_cache_key() -> None:
    assert set(CHANGED_FIELDS) == {f.name for f in fields(TinyModelConfig)}
    default = tiny_model_folder(0, TinyModelConfig())
    folders = {
        tiny_model_folder(0, replace(TinyModelConfig(), **{k: v}))
        for k, v in CHANGED_FIELDS.items()
    }
    assert default not in folders and len(folders) == len(CHANGED_FIELDS)


def test_invalid_config_is_a_user_error() -> None:
    with pytest.raises(HarmlabError, match="seq_len"):
        TinyModelConfig(seq_len=400, max_position=320)


def test_pretraining_lowers_loss_and_reports_what_it_did(
    pretrained_tiny: Path, tiny_cfg: TinyModelConfig
) -> None:
    report = json.loads((pretrained_tiny / "pretrain.json").read_text())
    assert report["config"] == asdict(tiny_cfg)
    assert report["final_loss"] < report["first_loss"] - 1.0
    assert report["tokens_seen"] == tiny_cfg.steps * tiny_cfg.batch_size * tiny_cfg.seq_len
    assert report["wall_seconds"] > 0
    assert report["flops_per_token"] == training_flops_per_token(tiny_cfg, report["vocab_size"])
    expected_rate = report["tokens_per_second"] * report["flops_per_token"]
    assert report["model_flops_per_second"] == pytest.approx(expected_rate, rel=1e-3)


def test_pretrained_folder_loads_with_from_pretrained_and_generates(
    pretrained_tiny: Path,
) -> None:
    model = AutoModelForCausalLM.from_pretrained(pretrained_tiny)
    tokenizer = AutoTokenizer.from_pretrained(pretrained_tiny)
    end_id = tokenizer.convert_tokens_to_ids(END)
    assert model.generation_config.eos_token_id == end_id
    assert model.generation_config.pad_token_id == end_id
    assert model.config.vocab_size == len(tokenizer)
    batch = tokenizer(
        [render_prompt("Tom has 3 apples"), render_prompt("hi")], return_tensors="pt", padding=True
    )
    output = model.generate(**batch, max_new_tokens=5, do_sample=False)
    assert output.shape[0] == 2 and output.shape[1] <= batch["input_ids"].shape[1] + 5
    leftovers = [p.name for p in pretrained_tiny.parent.iterdir() if p.name != "model"]
    assert leftovers == [".model.lock"], "the atomic write left its temporary folder behind"


def test_same_seed_gives_identical_weights_and_another_seed_does_not(
    pretrained_tiny: Path, tiny_cfg: TinyModelConfig, corpus: list, tmp_path: Path
) -> None:
    short = replace(tiny_cfg, steps=5)
    first = load_file(pretrain(corpus, short, tmp_path / "a", progress=False) / "model.safetensors")
    again = load_file(pretrain(corpus, short, tmp_path / "b", progress=False) / "model.safetensors")
    other_cfg = replace(short, seed=1)
    other = load_file(
        pretrain(corpus, other_cfg, tmp_path / "c", progress=False) / "model.safetensors"
    )
    assert first.keys() == again.keys()
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not all(torch.equal(first[name], other[name]) for name in first)


def test_pretraining_over_an_existing_folder_replaces_it(
    tiny_cfg: TinyModelConfig, corpus: list, tmp_path: Path
) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("from an interrupted run")
    pretrain(corpus, replace(tiny_cfg, steps=2), target, progress=False)
    assert not (target / "stale.txt").exists()
    assert (target / "model.safetensors").is_file()
