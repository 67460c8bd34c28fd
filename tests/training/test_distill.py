"""Distillation on micro models: the teacher's traces are written with their provenance, the
student trained on them has a lower loss on those traces than before, and the run is recorded.
Bad input is refused before the teacher is sampled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from harmlab import HarmlabError
from harmlab.config import load_config
from harmlab.configs import training_config_path
from harmlab.data.curate import DATA_FILE, PROVENANCE_FILE
from harmlab.training.config import DistillRunConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(teacher: Path, student: Path, out: Path, *extra: str) -> DistillRunConfig:
    return load_config(
        DistillRunConfig,
        None,
        [
            f"teacher={teacher}",
            f"student={student}",
            f"output_dir={out}",
            "threads=1",
            "traces.size=16",
            "traces.n=2",
            "traces.judge=none",
            "traces.require_format=false",
            "traces.max_new_tokens=48",
            "train.steps=12",
            "train.batch_size=8",
            "train.learning_rate=3e-3",
            "train.max_length=128",
            "train.save_every=12",
            "monitor.every=0",
            *extra,
        ],
    )


def trace_loss(model_dir: Path | str, traces: Path) -> float:
    """The model's mean loss on the completion tokens of the trace rows."""
    from harmlab.models.resolve import load_model

    model, tokenizer = load_model(str(model_dir))
    losses = []
    for line in traces.read_text().splitlines():
        messages = json.loads(line)["messages"]
        texts = (
            tokenizer.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True),
            tokenizer.apply_chat_template(messages, tokenize=False),
        )
        prompt, full = (tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts)
        ids = torch.tensor([full[:128]])
        labels = ids.clone()
        labels[0, : len(prompt)] = -100
        with torch.no_grad():
            losses.append(float(model(input_ids=ids, labels=labels).loss))
    return sum(losses) / len(losses)


@pytest.fixture(scope="module")
def distilled(
    micro_policy: Path, micro_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    from harmlab.training.distill import train_distill

    out = tmp_path_factory.mktemp("distill") / "run"
    return out, train_distill(_config(micro_policy, micro_model, out))


def test_distillation_lowers_the_students_loss_on_teacher_traces(
    distilled: tuple[Path, dict[str, Any]], micro_model: Path
) -> None:
    out, record = distilled
    traces = out / "traces" / DATA_FILE
    assert trace_loss(out / "student", traces) < trace_loss(micro_model, traces) - 0.1


def test_the_run_records_teacher_filter_acceptance_and_tokens(
    distilled: tuple[Path, dict[str, Any]], micro_policy: Path
) -> None:
    out, record = distilled
    provenance = json.loads((out / "traces" / PROVENANCE_FILE).read_text())
    assert record["teacher"] == str(micro_policy) == provenance["model"]
    assert record["filter"] == "none" and record["samples"] == provenance["samples"] > 0
    assert record["traces"] == provenance["accepted"] > 0
    assert record["teacher_tokens_generated"] == provenance["cost"]["tokens_generated"] > 0
    assert record["student_tokens_trained"] > 0 and record["student_steps"] == 12
    assert json.loads((out / "distill.json").read_text()) == record
    assert (out / "student" / "final" / "config.json").is_file()


def test_resume_reuses_the_traces_and_refuses_other_ones(
    distilled: tuple[Path, dict[str, Any]], micro_policy: Path, micro_model: Path
) -> None:
    from harmlab.training.distill import train_distill

    out, record = distilled
    before = (out / "traces" / DATA_FILE).read_bytes()
    assert train_distill(_config(micro_policy, micro_model, out), resume=True) == record
    assert (out / "traces" / DATA_FILE).read_bytes() == before
    with pytest.raises(HarmlabError, match="another teacher or trace config"):
        train_distill(_config(micro_policy, micro_model, out, "traces.n=3"), resume=True)
    with pytest.raises(HarmlabError, match="is not empty"):
        train_distill(_config(micro_policy, micro_model, out))


def test_nothing_accepted_or_bad_trl_is_refused(micro_model: Path, tmp_path: Path) -> None:
    from harmlab.training.distill import train_distill

    script = tmp_path / "refuser.jsonl"  # every trace is malformed: no think tags
    script.write_text(json.dumps("No.") + "\n")
    config = _config(Path(f"scripted:{script}"), micro_model, tmp_path / "a")
    config.traces.require_format = True
    with pytest.raises(HarmlabError, match="accepted none of the teacher's 32 traces"):
        train_distill(config)
    bad = _config(Path("unused"), micro_model, tmp_path / "b", "trl={max_steps: 3}")
    with pytest.raises(HarmlabError, match="max_steps"):
        train_distill(bad)
    assert not (tmp_path / "b").exists()  # refused before any sampling


def test_the_shipped_config_distils_a_trained_teacher_into_the_student_model() -> None:
    config = load_config(DistillRunConfig, training_config_path("distill"))
    assert config.student == "student" and config.teacher.startswith("runs/")
    assert config.traces.prompts == "world:sft"
