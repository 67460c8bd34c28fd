from __future__ import annotations

from pathlib import Path

import pytest

from harmlab import HarmlabError
from harmlab.models.resolve import MODELS, load_model, model_in_folder, resolve_model_path

NETWORK_HINT = (
    "and network is off; pass --allow-network (or set HARMLAB_ALLOW_NETWORK=1) "
    "to download it from the Hugging Face hub"
)


def _model_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("/nonexistent", "model folder '/nonexistent' does not exist"),
        ("./runs/missing", "model folder './runs/missing' does not exist"),
        ("runs/a/b", "model folder 'runs/a/b' does not exist"),
        ("~/no-such-model-dir", "model folder '~/no-such-model-dir' does not exist"),
        ("org/name", f"model 'org/name' is not a local folder {NETWORK_HINT}"),
        ("gpt2", "model 'gpt2' is not a local folder (registered: "),
        ("pkg.missing_module:build", "model 'pkg.missing_module:build' names nothing importable"),
        ("math:pi", "model 'math:pi' names a float object, not a model"),
    ],
)
def test_unresolvable_references_say_what_to_do(ref: str, message: str) -> None:
    with pytest.raises(HarmlabError) as error:
        resolve_model_path(ref)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_hub_id_is_passed_through_when_network_is_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARMLAB_ALLOW_NETWORK", "1")
    assert resolve_model_path("org/name") == "org/name"


def test_model_folder_resolves_to_itself(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "hf")
    assert resolve_model_path(str(folder)) == folder


def test_run_directory_prefers_final_then_newest_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    for step in (9, 10, 2):
        _model_folder(run / f"checkpoint-{step}")
    (run / "checkpoint-11").mkdir()  # being written: no config yet
    assert model_in_folder(run) == run / "checkpoint-10"
    _model_folder(run / "final")
    assert resolve_model_path(str(run)) == run / "final"


def test_folder_without_a_model_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HarmlabError, match="holds no model"):
        resolve_model_path(str(tmp_path))


def test_registered_name_resolves_through_its_resolver(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "named")
    MODELS.add("test-named-model", lambda: folder)
    assert {"test-named-model", "smollm2", "tiny"} <= set(MODELS.names())
    assert resolve_model_path("test-named-model") == folder


def test_load_model_is_ready_for_batched_generation(pretrained_tiny: Path) -> None:
    MODELS.add("test-tiny", lambda: pretrained_tiny)
    model, tokenizer = load_model("test-tiny")
    assert not model.training
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token_id == model.generation_config.pad_token_id
    batch = tokenizer(
        ["<|user|>hi<|assistant|>", "<|user|>a longer prompt<|assistant|>"],
        return_tensors="pt",
        padding=True,
    )
    assert batch["attention_mask"][0, 0] == 0, "short prompt should be padded on the left"
