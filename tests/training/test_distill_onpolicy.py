"""On-policy distillation (`mode: onpolicy`) on micro models: a blank student's divergence from a
fixed teacher falls over steps on its own samples, the run is recorded and resumed as the
off-policy one is, tokenizers that differ are refused before anything is written, and bad
settings are one-line errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from harmlab import HarmlabError
from harmlab.config import load_config
from harmlab.configs import training_config_path
from harmlab.models.tiny_config import TinyModelConfig
from harmlab.training.config import DistillRunConfig

pytestmark = pytest.mark.usefixtures("one_thread")

STEPS = 10

BLANK = TinyModelConfig(
    hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=2, intermediate_size=64
)
"""The student: smaller than the micro teacher, randomly initialised (it knows nothing)."""


def _config(teacher: Path, student: Path, out: Path, *extra: str) -> DistillRunConfig:
    return load_config(
        DistillRunConfig,
        None,
        [
            "mode=onpolicy",
            f"teacher={teacher}",
            f"student={student}",
            f"output_dir={out}",
            "threads=1",
            "traces.size=24",
            "traces.judge=none",
            "onpolicy.max_new_tokens=24",
            f"train.steps={STEPS}",
            "train.batch_size=8",
            "train.learning_rate=1e-2",
            f"train.save_every={STEPS}",
            f"monitor.every={STEPS}",
            "monitor.probes_per_family=2",
            "monitor.max_new_tokens=16",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def blank_student(micro_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised Llama with the teacher's tokenizer (a shared vocabulary)."""
    from transformers import AutoTokenizer, GenerationConfig

    from harmlab.models.tiny import build_model, end_token_id

    tokenizer = AutoTokenizer.from_pretrained(micro_policy)
    torch.manual_seed(0)
    model = build_model(BLANK, tokenizer)
    end = end_token_id(tokenizer)
    model.generation_config = GenerationConfig(bos_token_id=end, eos_token_id=end, pad_token_id=end)
    folder = tmp_path_factory.mktemp("blank") / "model"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def distilled(
    micro_policy: Path, blank_student: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    from harmlab.training.distill import train_distill

    out = tmp_path_factory.mktemp("onpolicy") / "run"
    return out, train_distill(_config(micro_policy, blank_student, out))


def _metrics(out: Path) -> list[dict[str, Any]]:
    text = (out / "student" / "metrics.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_the_students_divergence_from_the_teacher_falls_over_steps(
    distilled: tuple[Path, dict[str, Any]],
) -> None:
    records = _metrics(distilled[0])
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    losses = [r["loss"] for r in records]
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.8 * first, losses  # about 0.6 here; flat (no learning) is 1


def test_the_run_records_mode_teacher_tokens_flops_and_probes(
    distilled: tuple[Path, dict[str, Any]], micro_policy: Path
) -> None:
    out, record = distilled
    prompts = (out / "prompts.jsonl").read_text().splitlines()
    assert record["mode"] == "onpolicy" and record["teacher"] == str(micro_policy)
    assert record["prompts"] == len(prompts) > 0 and record["filter"] == "none"
    assert record["student_steps"] == STEPS and record["student_tokens_generated"] > 0
    tokens = record["student_tokens_trained"]
    assert tokens > record["student_tokens_generated"]  # prompts are run through too
    assert record["teacher_tokens_scored"] == tokens
    assert record["teacher_flops_forward"] == 2.0 * record["teacher_params"] * tokens
    assert json.loads((out / "distill.json").read_text()) == record
    assert (out / "student" / "final" / "config.json").is_file()
    assert not (out / "traces").exists()
    probed = [r for r in _metrics(out) if "probe/harmful_compliance" in r]
    assert [r["step"] for r in probed] == [1, STEPS]


def test_resume_keeps_the_run_and_refuses_another_draw_or_mode(
    distilled: tuple[Path, dict[str, Any]], micro_policy: Path, blank_student: Path
) -> None:
    from harmlab.training.distill import train_distill

    out, record = distilled
    before = (out / "prompts.jsonl").read_bytes()
    assert train_distill(_config(micro_policy, blank_student, out), resume=True) == record
    assert (out / "prompts.jsonl").read_bytes() == before
    with pytest.raises(HarmlabError, match="holds prompts of another trace config"):
        train_distill(_config(micro_policy, blank_student, out, "traces.size=8"), resume=True)
    offpolicy = _config(micro_policy, blank_student, out, "mode=offpolicy")
    with pytest.raises(HarmlabError, match="holds an onpolicy distillation"):
        train_distill(offpolicy, resume=True)


def test_a_run_stopped_after_a_checkpoint_resumes_from_it(
    micro_policy: Path, blank_student: Path, tmp_path: Path
) -> None:
    import shutil

    from harmlab.training.distill import train_distill

    out = tmp_path / "run"
    short = ("train.steps=4", "train.save_every=2", "monitor.every=0")
    train_distill(_config(micro_policy, blank_student, out, *short))
    for lost in ("checkpoint-4", "final"):  # as if killed after step 3's record
        shutil.rmtree(out / "student" / lost)
    (out / "student" / "summary.json").unlink()
    (out / "distill.json").unlink()
    record = train_distill(_config(micro_policy, blank_student, out, *short), resume=True)
    records = _metrics(out)
    assert [r["step"] for r in records] == [1, 2, 3, 4] and record["student_steps"] == 4
    tokens = [r["compute/tokens_generated"] for r in records]
    assert tokens == sorted(tokens) and tokens[2] > tokens[1]  # the meter continued
    assert (out / "student" / "checkpoint-4").is_dir() and (out / "distill.json").is_file()


def test_tokenizers_that_differ_are_refused_before_anything_is_written(
    micro_policy: Path, micro_model: Path, tmp_path: Path
) -> None:
    """The two micro models' tokenizers were trained on different corpora: same vocabulary size
    (which is all TRL compares), other ids."""
    from transformers import AutoConfig

    from harmlab.training.distill import train_distill

    sizes = {AutoConfig.from_pretrained(m).vocab_size for m in (micro_policy, micro_model)}
    assert len(sizes) == 1
    out = tmp_path / "run"
    with pytest.raises(HarmlabError, match="do not share a tokenizer") as error:
        train_distill(_config(micro_policy, micro_model, out))
    assert "\n" not in str(error.value) and "mode=offpolicy" in str(error.value)
    assert not out.exists()


def test_the_shipped_base_and_student_models_share_the_world_tokenizer() -> None:
    from transformers import AutoTokenizer

    from harmlab.models.embedded import student_model_folder, tiny_model_folder
    from harmlab.models.shipped import SHIPPED_ROOT
    from harmlab.training.distill_onpolicy import check_shared_vocabulary

    folders = (
        SHIPPED_ROOT / tiny_model_folder(0).name,
        SHIPPED_ROOT / student_model_folder(0).name,
    )
    tiny, student = (AutoTokenizer.from_pretrained(folder) for folder in folders)
    check_shared_vocabulary(tiny, student, ("tiny", "student"))  # raises when they differ
    assert tiny.get_vocab() == student.get_vocab()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["mode=sideways"], "'mode'"),
        (["mode=onpolicy", "traces.judge=gold"], "'traces.judge' is 'gold' but on-policy"),
        (["onpolicy.beta=1.5"], "'onpolicy.beta' is 1.5"),
        (["onpolicy.temperature=0"], "'onpolicy.temperature' is 0"),
        (["onpolicy.max_new_tokens=0"], "'onpolicy.max_new_tokens' is 0"),
        (["onpolicy.lmbda=0.5"], "unknown key 'onpolicy.lmbda'"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_field(
    overrides: list[str], message: str
) -> None:
    with pytest.raises(HarmlabError) as error:
        load_config(DistillRunConfig, training_config_path("distill"), overrides)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trl.beta=0.5", "'trl.beta' is set by harmlab: use 'onpolicy.beta'"),
        ("trl.max_completion_length=8", "use 'onpolicy.max_new_tokens'"),
        ("trl.completion_only_loss=true", "unknown key 'trl.completion_only_loss'"),
    ],
)
def test_trl_keys_are_checked_against_distillation_config_before_any_work(
    override: str, message: str, tmp_path: Path
) -> None:
    from harmlab.training.distill import train_distill

    config = _config(Path("unused"), Path("unused"), tmp_path / "run", override)
    with pytest.raises(HarmlabError, match=message.replace("(", r"\(")):
        train_distill(config)
    assert not (tmp_path / "run").exists()


def test_the_shipped_config_runs_onpolicy_with_one_override() -> None:
    config = load_config(DistillRunConfig, training_config_path("distill"), ["mode=onpolicy"])
    assert config.mode == "onpolicy" and config.traces.judge == "none"
    assert load_config(DistillRunConfig, training_config_path("distill")).mode == "offpolicy"
