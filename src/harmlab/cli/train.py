"""`harmlab train sft|grpo --config FILE [key=value ...] [--resume]`: training runs from YAML.

    harmlab train sft --config configs/sft-cold-start.yaml
    harmlab train grpo --config configs/grpo-after-sft.yaml train.steps=20 monitor.every=5
    harmlab train grpo --config configs/grpo-after-sft.yaml --resume     # after a crash

The config is loaded and validated (unknown keys, types, reward names and params) before any
model is loaded; a mistake is one line naming the key and the valid ones. A rich progress bar
shows the step, the proxy reward and the latest gold probe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harmlab.cli.common import console

app = typer.Typer(help="Train: cold-start SFT and GRPO (TRL), with the gold monitor.")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="YAML run config.")]
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
    from harmlab.training.config import SFTRunConfig
    from harmlab.training.sft import train_sft

    run_config = load_config(SFTRunConfig, config, overrides or [])
    with _progress(run_config.train.steps, "sft") as hook:
        summary = train_sft(run_config, resume=resume, on_record=hook)
    _report(summary)


@app.command()
def grpo(config: ConfigOption, overrides: Overrides = None, resume: ResumeOption = False) -> None:
    """GRPO through TRL's GRPOTrainer, with rule rewards from the config."""
    from harmlab.config import load_config
    from harmlab.rewards.registry import build_rewards
    from harmlab.training.config import GRPORunConfig, SFTRunConfig
    from harmlab.training.grpo import sft_start, train_grpo

    run_config = load_config(GRPORunConfig, config, overrides or [])
    build_rewards(run_config.rewards)  # reward names and params checked before any work
    if run_config.sft is not None:
        sft_steps = load_config(SFTRunConfig, run_config.sft).train.steps
        with _progress(sft_steps, "sft (cold start)") as hook:
            sft_start(run_config, on_record=hook)
    with _progress(run_config.train.steps, "grpo") as hook:
        summary = train_grpo(run_config, resume=resume, on_record=hook)
    _report(summary)


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
    seconds = sum(v for k, v in summary.items() if k.startswith("compute/") and k.endswith("_s"))
    console.print(
        f"trained {summary['steps']} steps ({seconds:.0f}s metered); "
        f"model: {summary['final_model']}"
    )
