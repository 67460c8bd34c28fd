"""`harmlab train sft|grpo|distill --config FILE [key=value ...] [--resume]`: runs from YAML.

    harmlab train sft --config sft-cold-start      # a shipped config, by name (harmlab.configs)
    harmlab train sft --config configs/sft-cold-start.yaml
    harmlab train grpo --config configs/grpo-after-sft.yaml train.steps=20 monitor.every=5
    harmlab train grpo --config configs/grpo-after-sft.yaml --resume     # after a crash
    harmlab train distill --config configs/distill.yaml                   # teacher -> student

The config is loaded and validated (unknown keys, types, reward names and params) before any
model is loaded; a mistake is one line naming the key and the valid ones. A rich progress bar
shows the step, the proxy reward and the latest gold probe.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harmlab.cli.common import console

app = typer.Typer(help="Train: cold-start SFT, GRPO and distillation (TRL), with the gold monitor.")

ConfigOption = Annotated[
    str,
    typer.Option(
        "--config", "-c", help="YAML run config: a file, or a shipped name (e.g. sft-cold-start)."
    ),
]
Overrides = Annotated[
    list[str] | None, typer.Argument(help="key=value overrides, e.g. train.steps=20.")
]
ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Continue the run in output_dir from its last checkpoint.")
]


def register(app_: typer.Typer) -> None:
    """Add the `train` command group to the top-level app."""
    app_.add_typer(app, name="train")


@app.command()
def sft(config: ConfigOption, overrides: Overrides = None, resume: ResumeOption = False) -> None:
    """Cold-start SFT through TRL's SFTTrainer."""
    from harmlab.config import load_config
    from harmlab.configs import training_config_path
    from harmlab.training.config import SFTRunConfig

    run_config = load_config(SFTRunConfig, training_config_path(config), overrides or [])
    from harmlab.training.sft import train_sft  # (TRL: seconds to import; after the checks)

    with _progress(run_config.train.steps, "sft") as hook:
        summary = train_sft(run_config, resume=resume, on_record=hook)
    _report(summary)


@app.command()
def grpo(config: ConfigOption, overrides: Overrides = None, resume: ResumeOption = False) -> None:
    """GRPO through TRL's GRPOTrainer, with rule rewards from the config."""
    from harmlab.config import load_config
    from harmlab.configs import training_config_path
    from harmlab.rewards.registry import build_rewards
    from harmlab.training.config import GRPORunConfig

    run_config = load_config(GRPORunConfig, training_config_path(config), overrides or [])
    build_rewards(run_config.rewards)  # reward names and params checked before any work
    from harmlab.training.grpo import train_grpo  # (TRL: seconds to import; after the checks)

    with _progress(run_config.train.steps, "grpo") as hook:
        summary = train_grpo(run_config, resume=resume, on_record=hook)
    _report(summary)


@app.command()
def distill(
    config: ConfigOption, overrides: Overrides = None, resume: ResumeOption = False
) -> None:
    """Distillation: the teacher's (filtered) traces, then SFT of the student on them; or, with
    mode=onpolicy, the student trained on its own samples toward the teacher."""
    from harmlab.config import load_config
    from harmlab.configs import training_config_path
    from harmlab.training.config import DistillRunConfig

    run_config = load_config(DistillRunConfig, training_config_path(config), overrides or [])
    from harmlab.training.distill import describe, train_distill  # (TRL: after the checks)

    if run_config.mode == "onpolicy":
        console.print(f"training the student on its own samples, scored by {run_config.teacher}")
    else:
        console.print(f"sampling traces of {run_config.teacher}, then training the student")
    with _progress(run_config.train.steps, "distill") as hook:
        record = train_distill(run_config, resume=resume, on_record=hook)
    console.print(describe(record))


class _progress:
    """A rich progress bar fed by metrics records (step, proxy reward, last gold probe)."""

    def __init__(self, total: int, label: str) -> None:
        self.bar = Progress(
            TextColumn(f"[bold]{label}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
        )
        self.task = self.bar.add_task(label, total=total, info="")
        self.probe = ""

    def __enter__(self) -> Any:
        from harmlab.training.common import is_main_process

        if is_main_process():  # under accelerate launch, one bar (the other ranks record nothing)
            self.bar.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def update(self, record: dict[str, Any]) -> None:
        if record.get("probe/harmful_compliance") is not None:
            self.probe = (
                f"gold harm {record['probe/harmful_compliance']:.2f} "
                f"gamed {record.get('probe/gamed') or 0:.2f} "
                f"acc {record.get('probe/accuracy') or 0:.2f}"
            )
        reward = record.get("reward", record.get("loss"))
        name = "reward" if "reward" in record else "loss"
        info = f"{name} {reward:.3f}  {self.probe}" if isinstance(reward, float) else self.probe
        self.bar.update(self.task, completed=record["step"], info=info)


def _report(summary: dict[str, Any]) -> None:
    from harmlab.training.common import is_main_process

    if not is_main_process():
        return
    seconds = sum(v for k, v in summary.items() if k.startswith("compute/") and k.endswith("_s"))
    console.print(
        f"trained {summary['steps']} steps ({seconds:.0f}s metered); "
        f"model: {summary['final_model']}"
    )
