from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from harmlab import HarmlabError
from harmlab.models.chat import END, render_prompt
from harmlab.models.tiny import (
    TinyModelConfig,
    build_model,
    cosine_lr_factor,
    pack_token_stream,
    pretrain,
)
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
