"""`tiny` and `student` name one model per world: wherever a world seed is given, the name means
that world's model, never world 0's."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmlab.cli import app
from harmlab.models import embedded
from harmlab.models.embedded import for_world, student_model_folder, tiny_model_folder, world_model


def test_world_models_have_a_folder_per_world(isolated_cache: Path) -> None:
    assert world_model("tiny", 3, build=False) == tiny_model_folder(3) != tiny_model_folder(0)
    assert world_model("student", 2, build=False) == student_model_folder(2)
    assert student_model_folder(2) != tiny_model_folder(2)
    assert world_model("runs/sft", 2, build=False) is None


def test_for_world_names_the_worlds_model_and_leaves_other_references(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedded, "ensure_tiny_model", lambda seed: Path(f"/cache/tiny-w{seed}"))
    monkeypatch.setattr(embedded, "ensure_student_model", lambda seed: Path(f"/cache/st-w{seed}"))
    assert for_world("tiny", 3) == "/cache/tiny-w3"
    assert for_world("student", 1) == "/cache/st-w1"
    assert for_world("tiny", 0) == "tiny"  # the default world: the name itself, resolved lazily
    assert for_world("runs/grpo", 4) == "runs/grpo"


def test_eval_with_a_world_seed_evaluates_that_worlds_base_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(embedded, "ensure_tiny_model", lambda seed: tmp_path / f"tiny-w{seed}")
    args = ["eval", "--model", "tiny", "--suite", "world", "--world-seed", "3"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code != 0  # the stand-in folder holds no model
    assert "tiny-w3' does not exist" in str(result.exception)
