"""Distillation: a teacher writes reasoning traces, a student is fine-tuned on them (SFT).

    harmlab train distill --config configs/distill.yaml
    harmlab train distill --config distill teacher=runs/grpo-from-base traces.judge=gold
    harmlab train distill --config distill mode=onpolicy       # on the student's own samples
    harmlab eval --model runs/distill/student --suite world     # then the teacher, same suite

DeepSeek-R1 (arXiv 2501.12948 section 2.4) distils its reasoner into smaller models by plain
SFT on about 800k samples it generated, without RL on the students; this is that recipe. The
traces come from `harmlab.data.curate` (the one rejection-sampling path: `traces.judge` is the
filter, `none` keeps every well-formed trace; E6 compares none, a rule and gold), and the
student is trained by `harmlab.training.sft.train_sft` on them as `data.files`. The default
student is `student`, a smaller embedded model pretrained on the same world corpus.

`mode: onpolicy` is the alternative the paper does not use: the student samples the same
prompts and is trained toward the teacher's token distribution on its own samples (TRL's
`DistillationTrainer`, `harmlab.training.distill_onpolicy`). It needs a shared vocabulary and
the teacher in memory at every step, and has no trace filter (the teacher writes no text).

Layout of `output_dir`: `traces/` (sft.jsonl, provenance.json: teacher, filter, acceptance
rate, label noise against gold, sampling tokens and FLOPs), `student/` (an SFT run directory,
the student model), `distill.json` (the run's config and record). `--resume` reuses traces
sampled with the same config and resumes the student's run. On-policy writes `prompts.jsonl`
instead of `traces/`, and its `student/` is a `DistillationTrainer` run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.data.curate import DATA_FILE, PROVENANCE_FILE, curate
from harmlab.files import atomic_write_json
from harmlab.training.arguments import lora_config, resolve_run_config, sft_arguments
from harmlab.training.common import RecordHook, check_run_folder, launched_processes
from harmlab.training.config import DistillRunConfig, SFTRunConfig, WorldData

RECORD_FILE = "distill.json"
"""The distillation record inside `output_dir`."""
PROMPTS_FILE = "prompts.jsonl"
"""What an on-policy distillation writes in `output_dir` instead of `traces/`: the prompts the
student samples."""


def traces_folder(config: DistillRunConfig) -> Path:
    """Where the teacher's traces are written."""
    return Path(config.output_dir).expanduser() / "traces"


def student_folder(config: DistillRunConfig) -> str:
    """The student's run directory, `<output_dir>/student`, in either mode."""
    return str(Path(config.output_dir).expanduser() / "student")


def student_data(config: DistillRunConfig, path: Path) -> WorldData:
    """The student's only data, in either mode: the file `path` (traces or prompts), read in
    the traces' world."""
    return WorldData(
        world_seed=config.traces.world_seed,
        held_out_category=config.traces.held_out_category,
        size=0,
        files=[str(path)],
    )


def student_run_config(config: DistillRunConfig) -> SFTRunConfig:
    """The student's SFT run: the traces as its only data, in `<output_dir>/student`."""
    return SFTRunConfig(
        model=config.student,
        output_dir=student_folder(config),
        seed=config.seed,
        threads=config.threads,
        data=student_data(config, traces_folder(config) / DATA_FILE),
        train=config.train,
        trl=config.trl,
        peft=config.peft,
        monitor=config.monitor,
    )


def teacher_traces(config: DistillRunConfig, resume: bool) -> dict[str, Any]:
    """The traces' provenance: sampled now, or, on resume, the traces already sampled with the
    same teacher and trace config (other ones are refused: the student trained on them)."""
    provenance_path = traces_folder(config) / PROVENANCE_FILE
    if resume and provenance_path.is_file():
        recorded: dict[str, Any] = json.loads(provenance_path.read_text(encoding="utf-8"))
        wanted = (config.teacher, dataclasses.asdict(config.traces))
        if (recorded.get("model"), recorded.get("config")) != wanted:
            raise HarmlabError(
                f"'{provenance_path}' holds traces of another teacher or trace config; resume "
                "with the config that wrote them, or use a new output_dir"
            )
        return recorded
    return curate(config.traces, traces_folder(config), config.teacher)


def check_distill_folder(config: DistillRunConfig, resume: bool) -> None:
    """Refuse a fresh run into a folder that is not empty, and a resume of the other mode's
    folder (before any sampling)."""
    folder = Path(config.output_dir).expanduser()
    if not resume and folder.exists() and any(folder.iterdir()):
        raise HarmlabError(
            f"distillation folder '{folder}' is not empty: pass --resume to continue it, or "
            "output_dir=<new folder>"
        )
    other = {"offpolicy": ("onpolicy", PROMPTS_FILE), "onpolicy": ("offpolicy", "traces")}
    mode, mark = other[config.mode]
    if resume and (folder / mark).exists():
        raise HarmlabError(
            f"distillation folder '{folder}' holds an {mode} distillation ({mark}): resume it "
            f"with mode={mode}, or use a new output_dir"
        )


def distill_record(
    config: DistillRunConfig, traces: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
    """What `distill.json` says: teacher, student, filter, acceptance, tokens, the student run."""
    return {
        "mode": "offpolicy",
        "teacher": config.teacher,
        "student": config.student,
        "student_model": summary.get("final_model"),
        "filter": traces["judge"],
        "traces": traces["accepted"],
        "samples": traces["samples"],
        "acceptance_rate": traces["acceptance_rate"],
        "gold_harmful_share": traces["gold_harmful_share"],
        "teacher_tokens_generated": traces["cost"]["tokens_generated"],
        "teacher_flops_generation": traces["cost"]["flops_generation"],
        "student_tokens_trained": summary.get("compute/tokens_trained"),
        "student_flops_train": summary.get("compute/flops_train"),
        "student_steps": summary.get("steps"),
        "config": dataclasses.asdict(config),
    }


def train_distill(
    config: DistillRunConfig, resume: bool = False, on_record: RecordHook | None = None
) -> dict[str, Any]:
    """Distil the teacher into the student as `config.mode` says; returns the record (also
    `<output_dir>/distill.json`). Configs and folders are checked before any sampling."""
    if launched_processes() > 1:
        raise HarmlabError(
            "harmlab train distill runs as one process (every rank would load and run the "
            "teacher); for several processes, sample traces with `harmlab data curate`, then "
            "launch `harmlab train sft` on them"
        )
    if config.mode == "onpolicy":
        return distill_onpolicy(config, resume, on_record)
    return distill_offpolicy(config, resume, on_record)


def distill_onpolicy(
    config: DistillRunConfig, resume: bool, on_record: RecordHook | None
) -> dict[str, Any]:
    """The student trained on its own samples toward the teacher (TRL's DistillationTrainer)."""
    check_distill_folder(config, resume)
    from harmlab.training.distill_onpolicy import onpolicy_record, train_onpolicy  # TRL: slow

    summary, teacher_params, prompts = train_onpolicy(config, resume, on_record)
    record = onpolicy_record(config, summary, teacher_params, prompts)
    atomic_write_json(Path(config.output_dir).expanduser() / RECORD_FILE, record)
    return record


def distill_offpolicy(
    config: DistillRunConfig, resume: bool, on_record: RecordHook | None
) -> dict[str, Any]:
    """Sample and filter the teacher's traces, train the student on them by SFT."""
    student = student_run_config(config)
    resolved = resolve_run_config(student)  # trl:/peft: mistakes before sampling
    sft_arguments(resolved, 1)
    lora_config(resolved.peft)
    check_distill_folder(config, resume)
    check_run_folder(resolved, resume)
    traces = teacher_traces(config, resume)
    if traces["accepted"] == 0:
        raise HarmlabError(
            f"the filter '{traces['judge']}' accepted none of the teacher's {traces['samples']} "
            f"traces (see {traces_folder(config) / PROVENANCE_FILE}); loosen traces.judge or "
            "traces.require_format, or sample more (traces.n, traces.size)"
        )
    from harmlab.training.sft import train_sft  # imports TRL: after the checks

    summary = train_sft(student, resume=resume, on_record=on_record)
    record = distill_record(config, traces, summary)
    atomic_write_json(Path(config.output_dir).expanduser() / RECORD_FILE, record)
    return record


def describe(record: dict[str, Any]) -> str:
    """One line on what a distillation did (the CLI prints it)."""
    if record.get("mode") == "onpolicy":
        return (
            f"teacher {record['teacher']} scored {record['teacher_tokens_scored']} tokens of the "
            f"student's samples on {record['prompts']} prompts (on-policy, beta "
            f"{record['beta']}); student model: {record['student_model']}"
        )
    return (
        f"teacher {record['teacher']}: {record['traces']} of {record['samples']} traces kept by "
        f"{record['filter']} (gold calls {record['gold_harmful_share']} of the kept harmful-"
        f"request traces harmful); student model: {record['student_model']}"
    )
