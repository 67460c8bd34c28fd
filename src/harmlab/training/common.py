"""What SFT and GRPO runs share: the policy, the monitor, the run's start, training and finish.

    harmlab train sft --config configs/sft-cold-start.yaml
    harmlab train grpo --config configs/grpo-after-sft.yaml
    accelerate launch --multi_gpu --num_processes 2 -m harmlab train grpo --config grpo-after-sft

Runs are CPU-friendly by default (`use_cpu` without CUDA, float32, no bf16), log every step
(one metrics record each), checkpoint in safetensors every `save_every` steps, and keep
optimizer, scheduler and RNG state in each checkpoint so that `--resume` continues exactly.
The run folder is created only once the model, data and trainer exist, so a start that fails
leaves nothing that blocks the rerun. With several processes (data parallel through
accelerate) only the main one writes the run folder, runs the gold monitor and saves `final/`.
`final/` is a plain Hugging Face model folder: with LoRA (`peft:`), the adapters merged into the
start model, the adapter itself beside it in `final/adapter/`.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from harmlab import HarmlabError
from harmlab.evaluation.rules import make_rule
from harmlab.models.resolve import load_model
from harmlab.rewards.base import RewardFunction
from harmlab.training.compute import ComputeMeter
from harmlab.training.config import MonitorConfig, TrainingRunConfig
from harmlab.training.monitor import GoldMonitor
from harmlab.training.probe import probe_prompts
from harmlab.training.rundir import RunDir, model_files
from harmlab.world import SafetyWorld

RecordHook = Callable[[dict[str, Any]], None]
"""Called with each metrics record as it is written (progress bars)."""


_WORLD_SIZE = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_RANK = ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")
"""Where torchrun and mpirun put the process count and rank (accelerate reads the same)."""


def _first_int(names: Sequence[str], default: int) -> int:
    return next((int(os.environ[name]) for name in names if os.environ.get(name)), default)


def launched_processes() -> int:
    """Processes the launcher started (1 for a plain command).

    `accelerate launch --cpu --num_processes N` starts one process (several need mpirun): that
    is refused, naming the launch that works on CPU.
    """
    processes = _first_int(_WORLD_SIZE, 1)
    cpu_launch = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    if processes == 1 and cpu_launch and os.environ.get("MASTER_ADDR"):
        raise HarmlabError(
            "accelerate launch --cpu with --num_processes > 1 starts a single process; for "
            "data-parallel CPU processes run accelerate launch --multi_gpu --num_processes N "
            "(without a GPU harmlab trains on CPU, over gloo)"
        )
    return processes


def is_main_process() -> bool:
    """The process that writes the run folder (global rank 0; a plain command is)."""
    return _first_int(_RANK, 0) == 0


def policy_dtype() -> torch.dtype | None:
    """float32 on CPU; on GPU the checkpoint's own dtype (mixed precision is `trl.bf16`)."""
    return None if torch.cuda.is_available() else torch.float32


def load_policy(ref: str, threads: int | None = None) -> tuple[Any, Any]:
    """The start policy in train-ready form (float32 on CPU) and its tokenizer."""
    if threads:
        torch.set_num_threads(threads)
    check_start_model(ref)
    model, tokenizer = load_model(ref, dtype=policy_dtype())
    model.train()
    return model, tokenizer


def check_start_model(ref: str) -> None:
    """A start model named as a run folder (`runs/NAME`) that does not exist: say how to make it.

    Training does not chain stages (`harmlab reproduce` does), so the hybrid's SFT run must be
    trained first; the hint names the shipped config of that name when there is one.
    """
    path = Path(ref).expanduser()
    if path.exists() or path.parent.name != "runs":
        return
    raise HarmlabError(f"model '{ref}' does not exist: train it first with {_train_command(path)}")


def _train_command(run: Path) -> str:
    from harmlab.config import read_yaml_mapping
    from harmlab.configs import shipped_training_configs, training_config_path

    if run.name not in shipped_training_configs():
        return f"harmlab train sft|grpo --config CONFIG output_dir={run}"
    keys = read_yaml_mapping(training_config_path(run.name))
    kind = "grpo" if "rewards" in keys or "prompts" in keys else "sft"  # the two schemas' keys
    return f"harmlab train {kind} --config {run.name}"


def build_monitor(
    config: MonitorConfig,
    run: RunDir,
    model: Any,
    world: SafetyWorld,
    rewards: tuple[Sequence[RewardFunction], Sequence[float]],
    on_record: RecordHook | None,
) -> tuple[GoldMonitor, ComputeMeter]:
    """The gold monitor and compute meter of a run (a frozen start-policy copy for KL); the
    monitor's gamed rate reads the rule `config.rule` names, built for this world."""
    meter = ComputeMeter(n_params=sum(p.numel() for p in model.parameters()))
    kept = run.metrics.records()
    if kept:
        meter.restore(kept[-1])
    start = None
    if config.kl and config.every > 0:
        start = copy.deepcopy(model).eval()
        start.requires_grad_(False)
    monitor = GoldMonitor(
        config,
        run.metrics,
        meter,
        world,
        probe_prompts(world, config.probes_per_family),
        rewards,
        start_model=start,
        rule=make_rule(config.rule, world.seed, world.held_out_category),
        on_record=on_record,
    )
    return monitor, meter


def quiet(trainer: Any) -> Any:
    """Drop transformers' stdout printer of raw logs (the monitor and progress bar report)."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def check_run_folder(config: TrainingRunConfig, resume: bool) -> None:
    """Refuse a run its folder would refuse (not empty, resumed with another config) before
    any model is loaded; only the main process, which writes the folder, asks."""
    if is_main_process():
        RunDir(Path(config.output_dir).expanduser()).check(config, resume)


def resume_trained(config: TrainingRunConfig, resume: bool) -> dict[str, Any] | None:
    """The summary of a resumed run whose last step is already checkpointed, else None.

    Such a run trains nothing and loads no model: `final/` stays byte for byte, or is exported
    from that checkpoint when the crash came before it was written.
    """
    run = RunDir(Path(config.output_dir).expanduser())
    latest = run.latest_checkpoint()
    if not resume or latest is None or latest[0] < config.train.steps:
        return None
    if is_main_process():
        run.start(config, config.seed, resume=True)  # the lock, the config check
    return finish_from_checkpoint(run, latest, config)


def prepare_monitor(
    config: TrainingRunConfig,
    model: Any,
    monitor_inputs: tuple[SafetyWorld, tuple[Sequence[RewardFunction], Sequence[float]]],
    on_record: RecordHook | None,
) -> tuple[GoldMonitor | None, ComputeMeter]:
    """The gold monitor (main process only; None elsewhere) and the compute meter.

    Call it before building the trainer: the monitor's frozen start-policy copy must come from
    the plain model, since a trainer replaces `model.forward` with a wrapper of the original
    that a deep copy would share (the "start policy" would then follow training; KL 0).
    `monitor_inputs` is the world the run draws from and the proxy rewards.
    """
    if not is_main_process():
        return None, ComputeMeter(n_params=sum(p.numel() for p in model.parameters()))
    world, rewards = monitor_inputs
    run = RunDir(Path(config.output_dir).expanduser())
    return build_monitor(config.monitor, run, model, world, rewards, on_record)


def run_training(
    trainer: Any,
    config: TrainingRunConfig,
    tokenizer: Any,
    meter: ComputeMeter,
    resume: bool,
) -> dict[str, Any]:
    """Start the run folder, train (from its last checkpoint when resuming), save `final/`;
    returns the run summary. A failed start (an error before any step is recorded or
    checkpointed) removes what it wrote; after Ctrl-C the run stays, to be resumed."""
    run = RunDir(Path(config.output_dir).expanduser())
    main = is_main_process()
    if main:
        latest = run.start(config, config.seed, resume, world_size=launched_processes())
        kept = run.metrics.records()  # what the resume kept: the meter's totals continue it
        if kept:
            meter.restore(kept[-1])
    else:
        latest = run.latest_checkpoint() if resume else None
    quiet(trainer).meter = meter
    try:
        trainer.train(resume_from_checkpoint=str(latest[1]) if latest else None)
    except Exception:
        if main:
            run.abandon()
        raise
    return finish(trainer, run, meter, tokenizer, config)


def summarize(run: RunDir, steps: int, compute: dict[str, Any]) -> dict[str, Any]:
    """The run summary: steps, metrics records, where the model is, compute totals."""
    records = run.metrics.records()
    return {"steps": steps, "records": len(records), "final_model": str(run.final), **compute}


def finish(
    trainer: Any,
    run: RunDir,
    meter: ComputeMeter,
    tokenizer: Any,
    config: TrainingRunConfig,
) -> dict[str, Any]:
    """Save `final/` and summary.json (main process); returns the summary."""
    if is_main_process():
        shutil.rmtree(run.final_partial, ignore_errors=True)
    adapter = config.peft is not None
    # Every process calls save_model: under DeepSpeed ZeRO-3 it gathers the sharded weights.
    trainer.save_model(str(run.final_partial / "adapter" if adapter else run.final_partial))
    summary = summarize(run, trainer.state.global_step, meter.snapshot())
    if is_main_process():
        complete_final(run, tokenizer, config.model if adapter else None)
        run.finish(summary)
    return summary


def finish_from_checkpoint(
    run: RunDir, latest: tuple[int, Path], config: TrainingRunConfig
) -> dict[str, Any]:
    """A run trained to its last step: its summary, with `final/` exported if it is missing."""
    done = run.finished()
    if done is not None:
        return done
    step, checkpoint = latest
    records = run.metrics.records()
    last = records[-1] if records else {}
    summary = summarize(run, step, {k: v for k, v in last.items() if k.startswith("compute/")})
    if is_main_process():
        shutil.rmtree(run.final_partial, ignore_errors=True)
        for path in model_files(checkpoint):  # weights or adapter, configs, tokenizer
            adapter = path.name.startswith("adapter_")
            into = run.final_partial / "adapter" if adapter else run.final_partial
            into.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, into / path.name)
        complete_final(run, None, config.model if config.peft is not None else None)
        run.finish(summary)
    return summary


def complete_final(run: RunDir, tokenizer: Any | None, lora_base: str | None) -> None:
    """Finish `final.partial/` (merge the LoRA adapter in `adapter/` into `lora_base`; save
    the tokenizer unless a checkpoint's copy is there) and publish it as `final/`, loadable by
    `harmlab.models.resolve.load_model`."""
    if lora_base is not None:
        merge_adapter(lora_base, run.final_partial / "adapter", run.final_partial)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(run.final_partial))
    run.publish_final()


def merge_adapter(base: str, adapter: Path, into: Path) -> None:
    """Save the start model `base` with the LoRA adapter in `adapter` merged into its weights.

    The base is loaded afresh rather than merged in the trainer's memory: that works from a
    checkpoint too, and under ZeRO-3, where the trainer's weights are sharded.
    """
    from peft import PeftModel

    model, _ = load_model(base, dtype=policy_dtype())
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    merged.save_pretrained(str(into))
