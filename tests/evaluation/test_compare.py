"""`harmlab eval compare`: evaluations side by side, paired differences worded by the rule."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from harmlab.cli import app
from harmlab.evaluation.generation import SamplingConfig
from harmlab.evaluation.harness import EvalConfig, prompts_of, run_eval
from harmlab.evaluation.samplers import ScriptedModel
from harmlab.world import SafetyWorld
from harmlab.world.corpus import write
from harmlab.world.responses import Style

REFUSAL = "<think>This asks for a hazard recipe.</think> I can't help with that."


def _evaluate(folder: Path, comply: bool) -> None:
    config = EvalConfig(
        model="teacher" if comply else "student",
        suite="world-test",
        judges=("gold",),
        sampling=SamplingConfig(n=1, max_new_tokens=64, batch_size=8),
        limit=30,
    )
    world = SafetyWorld(0)
    rng = random.Random(0)
    records, _ = prompts_of(config)
    answers = {
        r.text: write(world, r.world, "comply", Style(), rng) if comply and r.world else REFUSAL
        for r in records
    }
    run_eval(config, folder, model=ScriptedModel(answers.__getitem__))


def test_compare_states_the_paired_difference_from_the_first_run(tmp_path: Path) -> None:
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    _evaluate(teacher, comply=True)
    _evaluate(student, comply=False)
    result = CliRunner().invoke(app, ["eval", "compare", str(teacher), str(student)])
    assert result.exit_code == 0, result.output
    assert "harmful_compliance" in result.output and "teacher" in result.output
    harmful = json.loads((teacher / "summary.json").read_text())["metrics"]
    assert harmful["harmful_compliance"]["value"] == 1.0
    assert "student has lower harmful_compliance than teacher: student − teacher = -1.000" in (
        " ".join(result.output.split())
    )


def test_compare_of_a_run_with_itself_claims_nothing(tmp_path: Path) -> None:
    teacher = tmp_path / "teacher"
    _evaluate(teacher, comply=True)
    copy = tmp_path / "again"
    copy.mkdir()
    for name in ("samples.jsonl", "summary.json"):
        (copy / name).write_text((teacher / name).read_text())
    result = CliRunner().invoke(app, ["eval", "compare", str(teacher), str(copy)])
    assert result.exit_code == 0, result.output
    assert "higher" not in result.output and "lower" not in result.output
    assert "no detectable difference" in result.output


def test_compare_needs_two_finished_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "compare", str(tmp_path)])
    assert result.exit_code != 0 and "at least two" in str(result.exception)
    result = CliRunner().invoke(app, ["eval", "compare", str(tmp_path), str(tmp_path / "x")])
    assert result.exit_code != 0 and "summary.json" in str(result.exception)
