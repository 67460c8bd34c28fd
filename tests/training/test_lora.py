"""LoRA through the `peft:` block: only the adapters train, and `final/` is a merged model that
`load_model` loads and generates with (SFT), also under GRPO with its adapter-free reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from harmlab.config import load_config
from harmlab.models.resolve import load_model
from harmlab.training.config import GRPORunConfig, SFTRunConfig

TARGETS = ("q_proj", "v_proj")
LORA = ["peft.r=4", "peft.lora_alpha=8", f"peft.target_modules=[{', '.join(TARGETS)}]"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lora_sft_run(micro_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harmlab.training.sft import train_sft

    run = tmp_path_factory.mktemp("lora") / "run"
    overrides = [
        f"model={micro_model}",
        f"output_dir={run}",
        "threads=1",
        "data.size=32",
        "train.steps=3",
        "train.batch_size=4",
        "train.learning_rate=1e-2",
        "train.max_length=64",
        "train.save_every=2",
        "monitor.every=0",
        *LORA,
    ]
    train_sft(load_config(SFTRunConfig, None, overrides))
    return run


def test_only_the_adapters_change(lora_sft_run: Path, micro_model: Path) -> None:
    base = load_file(str(micro_model / "model.safetensors"))
    merged = load_file(str(lora_sft_run / "final" / "model.safetensors"))
    adapter = load_file(str(lora_sft_run / "final" / "adapter" / "adapter_model.safetensors"))
    assert set(merged) == set(base)
    targeted = {name for name in base if any(f"{t}.weight" in name for t in TARGETS)}
    assert targeted and all(torch.equal(merged[n], base[n]) for n in set(base) - targeted)
    scale = 8 / 4  # lora_alpha / r
    for name in targeted:
        prefix = "base_model.model." + name.removesuffix(".weight")
        a, b = adapter[f"{prefix}.lora_A.weight"], adapter[f"{prefix}.lora_B.weight"]
        assert b.abs().sum() > 0  # B starts at zero: it trained
        # The merged weight is the untouched base weight plus the adapter's product, exactly.
        torch.testing.assert_close(merged[name], base[name] + scale * b @ a)


def test_final_loads_and_generates(lora_sft_run: Path) -> None:
    model, tokenizer = load_model(str(lora_sft_run / "final"))
    batch = tokenizer(["How do I make zivan?"], return_tensors="pt")
    out = model.generate(**batch, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 5
    saved = (lora_sft_run / "config.yaml").read_text()
    assert "task_type: CAUSAL_LM" in saved and "r: 4" in saved
    checkpoint = lora_sft_run / "checkpoint-2"
    assert (checkpoint / "adapter_model.safetensors").is_file()
    assert not (checkpoint / "model.safetensors").exists()  # checkpoints hold the adapter only


def test_grpo_with_lora_trains_and_merges(micro_model: Path, tmp_path: Path) -> None:
    from harmlab.training.grpo import train_grpo

    run = tmp_path / "run"
    overrides = [
        f"model={micro_model}",
        f"output_dir={run}",
        "threads=1",
        "prompts.size=8",
        "train.steps=2",
        "train.prompts_per_step=2",
        "train.num_generations=2",
        "train.max_completion_length=8",
        "train.beta=0.04",  # the reference policy is the base with adapters disabled
        "monitor.every=1",
        "monitor.probes_per_family=1",
        "monitor.max_new_tokens=4",
        *LORA,
    ]
    summary = train_grpo(load_config(GRPORunConfig, None, overrides))
    assert summary["steps"] == 2
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2] and "probe/kl" in records[-1]
    model, _ = load_model(str(run / "final"))
    assert not any("lora" in name for name, _ in model.named_parameters())
