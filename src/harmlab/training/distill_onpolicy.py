"""On-policy distillation: the student samples the trace prompts, the teacher scores every token.

    harmlab train distill --config distill mode=onpolicy teacher=runs/grpo-after-sft
    harmlab train distill --config distill mode=onpolicy onpolicy.beta=0.5   # JSD, not reverse KL

TRL's `DistillationTrainer` (Agarwal et al., arXiv 2306.13649, GKD with on-policy share 1):
each step the student samples one completion per prompt, and is trained toward the teacher's
next-token distribution on those tokens by a generalized Jensen-Shannon divergence
(`onpolicy.beta`: 1 reverse KL, 0 forward KL). The student thus learns on the states it visits
itself, which SFT on teacher samples (`mode: offpolicy`, R1-Distill's recipe) never shows it.
harmlab adds only a subclass that meters compute and keeps the data order across `--resume`,
as for GRPO.

What it needs and costs: the teacher in memory beside the student, one teacher forward per
trained token (2·N_teacher FLOPs per token, recorded as `teacher_flops_forward`), the student's
generation every step, and a shared vocabulary: the divergence compares distributions over the
same token ids, so the tokenizers must map every token to the same id (checked before any run
folder is written; TRL checks only the vocabulary's size). The teacher reads the student's
chat template. No judge or rule filter applies: the teacher writes no text to accept or
reject, and its whole distribution, hacks included, is the target (`traces.judge` must be
`none`); the prompt draw is the traces' (`traces.prompts`, held-out categories excluded).

Layout of `output_dir`: `prompts.jsonl` (the prompts the student samples), `student/` (its run
directory, `OnPolicyRunConfig` in config.yaml), `distill.json` (written by `training.distill`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from trl import DistillationTrainer

from harmlab import HarmlabError
from harmlab.data.curate import curation_prompts
from harmlab.files import atomic_write_text
from harmlab.models.embedded import for_world
from harmlab.models.resolve import load_model
from harmlab.training.arguments import lora_config, onpolicy_arguments, resolve_run_config
from harmlab.training.common import (
    RecordHook,
    check_run_folder,
    check_start_model,
    load_policy,
    policy_dtype,
    prepare_monitor,
    resume_trained,
    run_training,
)
from harmlab.training.compute import ComputeMeter, generation_flops
from harmlab.training.config import DistillRunConfig, OnPolicyRunConfig
from harmlab.training.data import (
    EpochOrderedGroups,
    data_world,
    grpo_dataset,
    read_jsonl,
)
from harmlab.training.distill import PROMPTS_FILE, student_data, student_folder
from harmlab.training.sft import MONITOR_REWARDS


class MeteredDistillationTrainer(EpochOrderedGroups, DistillationTrainer):
    """TRL's DistillationTrainer with the compute meter around generation and each step, and a
    data order that survives `--resume` (`EpochOrderedGroups`)."""

    meter: ComputeMeter

    def _generate(self, prompts: list) -> Any:
        with self.meter.phase("generation"):
            out = super()._generate(prompts)
        local = torch.tensor([sum(len(ids) for ids in out[1])], device=self.accelerator.device)
        self.meter.tokens_generated += int(self.accelerator.gather(local).sum())
        return out

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        with self.meter.step():
            loss = super().training_step(*args, **kwargs)
        # Prompt and completion tokens of every process: what the student (and the teacher) ran.
        self.meter.tokens_trained = int(self.state.num_input_tokens_seen)
        return loss


def prompts_path(config: DistillRunConfig) -> Path:
    """Where the prompts the student samples are written."""
    return Path(config.output_dir).expanduser() / PROMPTS_FILE


def student_run_config(config: DistillRunConfig) -> OnPolicyRunConfig:
    """The student's run: the prompt file as its only prompts, in `<output_dir>/student`."""
    return OnPolicyRunConfig(
        model=config.student,
        teacher=config.teacher,
        output_dir=student_folder(config),
        seed=config.seed,
        threads=config.threads,
        prompts=student_data(config, prompts_path(config)),
        onpolicy=config.onpolicy,
        train=config.train,
        trl=config.trl,
        peft=config.peft,
        monitor=config.monitor,
    )


def prompt_rows(config: DistillRunConfig) -> list[dict[str, Any]]:
    """The trace prompts (`traces.prompts` drawn as curation draws them) as prompt rows."""
    prompts = curation_prompts(config.traces)
    if not prompts.records:
        raise HarmlabError(f"prompt set '{config.traces.prompts}' (traces.prompts) is empty")
    return [
        {
            "prompt": record.text,
            "prompt_id": record.id,
            "family": record.family,
            "category": record.category,
            "language": record.language,
            "source": record.source,
        }
        for record in prompts.records
    ]


def check_prompts(config: DistillRunConfig, rows: list[dict[str, Any]], resume: bool) -> None:
    """On resume, refuse a folder whose prompts another draw wrote (the student trained on
    them)."""
    path = prompts_path(config)
    if resume and path.is_file() and read_jsonl(path) != rows:
        raise HarmlabError(
            f"'{path}' holds prompts of another trace config; resume with the config that wrote "
            "them, or use a new output_dir"
        )


def write_prompts(config: DistillRunConfig, rows: list[dict[str, Any]]) -> None:
    """Write `prompts.jsonl` (the same bytes again on resume)."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    atomic_write_text(prompts_path(config), text)


def check_shared_vocabulary(teacher: Any, student: Any, names: tuple[str, str]) -> None:
    """Refuse tokenizers that do not map every token to the same id (TRL compares only the
    vocabulary's size, and distributions over different ids would train silently on noise)."""
    teacher_vocab, student_vocab = teacher.get_vocab(), student.get_vocab()
    if teacher_vocab == student_vocab and teacher.eos_token_id == student.eos_token_id:
        return
    differ = len(set(teacher_vocab.items()) ^ set(student_vocab.items())) // 2
    raise HarmlabError(
        f"teacher '{names[0]}' and student '{names[1]}' do not share a tokenizer (about {differ} "
        f"of {max(len(teacher_vocab), len(student_vocab))} tokens differ): on-policy distillation "
        "compares next-token distributions over one vocabulary; use mode=offpolicy (SFT on the "
        "teacher's text) or a student with the teacher's tokenizer"
    )


def load_teacher(config: OnPolicyRunConfig) -> tuple[Any, Any]:
    """The teacher, frozen in eval mode (float32 on CPU), and its tokenizer."""
    reference = for_world(config.teacher, config.prompts.world_seed)  # `tiny`: this world's
    check_start_model(reference)
    model, tokenizer = load_model(reference, dtype=policy_dtype())
    model.requires_grad_(False)
    return model, tokenizer


def parameter_count(model: Any) -> int:
    """Every parameter of a model (the FLOPs estimate counts embeddings too: `compute`)."""
    return sum(p.numel() for p in model.parameters())


def train_onpolicy(
    config: DistillRunConfig, resume: bool = False, on_record: RecordHook | None = None
) -> tuple[dict[str, Any], int, int]:
    """Train the student on-policy against the teacher: (the student run's summary, the
    teacher's parameter count, the number of prompts).

    `trl:`, `peft:`, the batch split, the run folder and the prompts are checked before any
    model is loaded, the tokenizers before anything is written."""
    student = resolve_run_config(student_run_config(config))
    args = onpolicy_arguments(student, 1)
    lora = lora_config(student.peft)
    check_run_folder(student, resume)
    rows = prompt_rows(config)
    check_prompts(config, rows, resume)
    trained = resume_trained(student, resume)
    if trained is not None:  # nothing to train: the teacher is loaded only to be counted
        return trained, parameter_count(load_teacher(student)[0]), len(rows)
    teacher, teacher_tokenizer = load_teacher(student)
    model, tokenizer = load_policy(
        for_world(student.model, student.prompts.world_seed), student.threads
    )
    check_shared_vocabulary(teacher_tokenizer, tokenizer, (student.teacher, student.model))
    write_prompts(config, rows)
    inputs = (data_world(student.prompts), MONITOR_REWARDS)
    monitor, meter = prepare_monitor(student, model, inputs, on_record)
    trainer = MeteredDistillationTrainer(
        model=model,
        teacher_model=teacher,
        args=args,
        train_dataset=grpo_dataset(student.prompts),
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[monitor] if monitor else None,
    )
    summary = run_training(trainer, student, tokenizer, meter, resume)
    return summary, parameter_count(teacher), len(rows)


def onpolicy_record(
    config: DistillRunConfig, summary: dict[str, Any], teacher_params: int, prompts: int
) -> dict[str, Any]:
    """What `distill.json` says of an on-policy run: teacher, student, prompts, tokens, FLOPs."""
    trained = summary.get("compute/tokens_trained") or 0
    # The teacher runs one forward pass over every token the student trains on: 2·N·D, the
    # cost of a generated token (`compute.generation_flops`), though nothing is generated.
    teacher_flops = generation_flops(teacher_params, trained)
    return {
        "mode": "onpolicy",
        "teacher": config.teacher,
        "student": config.student,
        "student_model": summary.get("final_model"),
        "filter": "none",
        "prompts": prompts,
        "beta": config.onpolicy.beta,
        "student_tokens_generated": summary.get("compute/tokens_generated"),
        "student_flops_generation": summary.get("compute/flops_generation"),
        "student_tokens_trained": trained,
        "student_flops_train": summary.get("compute/flops_train"),
        "student_steps": summary.get("steps"),
        "teacher_params": teacher_params,
        "teacher_tokens_scored": trained,
        "teacher_flops_forward": teacher_flops,
        "config": dataclasses.asdict(config),
    }
