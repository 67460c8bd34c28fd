"""`harmlab pretrain | generate | card`: the embedded base model and any other model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harmlab.cli.common import ModelOption, console, from_flags, load


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.command()(pretrain)
    app.command()(generate)
    app.command()(card)


def pretrain(
    world_seed: Annotated[
        int, typer.Option(min=0, help="Seed of the world whose corpus is used.")
    ] = 0,
    from_scratch: Annotated[
        bool,
        typer.Option(help="Pretrain even when the cache or the shipped weights have the model."),
    ] = False,
) -> None:
    """Pretrain the embedded base model on SafetyWorld (reused from the cache when present,
    installed from the shipped weights when they are this world's)."""
    import time

    from harmlab.models.embedded import ensure_tiny_model, tiny_model_folder
    from harmlab.models.folders import is_complete_model_folder
    from harmlab.models.shipped import MANIFEST

    cached = is_complete_model_folder(tiny_model_folder(world_seed)) and not from_scratch
    start = time.perf_counter()
    folder = ensure_tiny_model(world_seed, from_scratch=from_scratch)
    shipped = (folder / MANIFEST).is_file() and not from_scratch
    verb = "pretrained"
    if cached or shipped:
        verb = "reused from cache" if cached else "installed from shipped weights"
    console.print(f"base model {verb} in {time.perf_counter() - start:.1f}s: {folder}")


def generate(
    prompt: Annotated[str, typer.Argument(help="The user message.")],
    model: ModelOption = "tiny",
    n: Annotated[int, typer.Option(help="Completions to sample.")] = 1,
    temperature: Annotated[float, typer.Option(help="0 for greedy decoding.")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option(help="Longest completion.")] = 200,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
) -> None:
    """Sample completions and print their reasoning and answer apart."""
    from harmlab.models.resolve import checked_model_source

    checked_model_source(model)  # a bad folder fails here, before torch is imported
    from harmlab.evaluation.generation import SamplingConfig, sample_completions
    from harmlab.reasoning_format import split_response

    config = from_flags(
        SamplingConfig, n=n, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed
    )
    lm, tokenizer = load(model)
    for i, completion in enumerate(sample_completions(lm, tokenizer, [prompt], config)[0]):
        parsed = split_response(completion)
        problems = "" if parsed.valid else f" ({', '.join(parsed.problems)})"
        console.rule(f"completion {i + 1}{problems}")
        console.print("[bold cyan]think[/]", parsed.think or "[dim](none)[/]", highlight=False)
        console.print("[bold green]answer[/]", parsed.answer or "[dim](none)[/]", highlight=False)


def card(
    model: ModelOption = "tiny",
    out: Annotated[Path | None, typer.Option(help="Where to save the card JSON.")] = None,
    world_seed: Annotated[int, typer.Option(min=0, help="Seed of the world.")] = 0,
    seed: Annotated[int, typer.Option(min=0, help="Sampling seed.")] = 0,
) -> None:
    """Sample the model on fixed world prompts, judge with the gold judge, print the card."""
    from dataclasses import replace

    from rich.progress import Progress

    from harmlab.evaluation.card import CardConfig, behaviour_card, card_prompts, card_to_json
    from harmlab.evaluation.generation import SamplingConfig
    from harmlab.files import atomic_write_json
    from harmlab.models.embedded import for_world
    from harmlab.world import SafetyWorld

    lm, tokenizer = load(for_world(model, world_seed))  # `tiny`: this world's base model
    world = SafetyWorld(world_seed)
    config = CardConfig(world_seed=world_seed, sampling=replace(SamplingConfig(), seed=seed))
    total = len(card_prompts(world, config))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("sampling", total=total)
        metrics, _ = behaviour_card(
            lm, tokenizer, world, config, lambda k: progress.advance(task, k)
        )
    console.print(render_card(metrics, model))
    console.print(render_axes(metrics["axes"], model))
    target = out or Path("runs") / "cards" / f"{_slug(model)}.json"
    atomic_write_json(target, card_to_json(metrics, config, model))
    console.print(f"card saved to {target}")


def _slug(ref: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in ref).strip("_") or "model"


def render_card(metrics: dict[str, Any], model: str) -> Table:
    """The card as a rich table: one row per metric, with interval and sample count."""
    table = Table(title=f"behaviour card: {model}", show_lines=False)
    for column in ("metric", "value", "95% interval", "n"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, value in metrics.items():
        if name == "axes":
            continue  # its own table: render_axes
        if isinstance(value, dict):
            for key, sub in value.items():
                _add_row(table, f"{name} · {key}", sub)
        elif name != "samples":
            _add_row(table, name, value)
    return table


def render_axes(axes: dict[str, dict[str, dict[str, Any]]], model: str) -> Table:
    """Per generalization axis: trained vs held-out harmful compliance and the capability
    control (benign accuracy in the same style), each held-out value on its own row."""
    table = Table(title=f"generalization axes: {model}", show_lines=False)
    for column in ("axis", "side", "harmful compliance", "accuracy (control)", "capability"):
        table.add_column(column, justify="left" if column in ("axis", "side") else "right")
    for axis_name, slices in axes.items():
        for side, slice_ in slices.items():
            table.add_row(
                axis_name,
                side if side in ("trained", "held_out") else f"  {side}",
                _cell(slice_["harmful_compliance"]),
                _cell(slice_["accuracy"]),
                slice_.get("capability", ""),
            )
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value.value:.3f} [{value.low:.3f}, {value.high:.3f}] n={value.n}"


def _add_row(table: Table, name: str, value: Any) -> None:
    if value is None:
        table.add_row(name, "–", "", "0")
        return
    table.add_row(name, f"{value.value:.3f}", f"[{value.low:.3f}, {value.high:.3f}]", str(value.n))
