"""`harmlab world ...`: look at SafetyWorld's prompts and responses."""

from __future__ import annotations

import random
from typing import Annotated, Any

import typer

from harmlab import HarmlabError
from harmlab.cli.common import console

app = typer.Typer(help="Look at SafetyWorld: its prompts and responses.", no_args_is_help=True)


@app.command("sample")
def world_sample(
    family: Annotated[str, typer.Option(help="harmful, benign or borderline.")] = "harmful",
    split: Annotated[
        str, typer.Option(help="pretrain, sft, rl, test, heldout_test, borderline_test.")
    ] = "test",
    n: Annotated[int, typer.Option(help="How many prompts.")] = 5,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Also write a response of this family: comply, refuse, refuse_then_comply, "
            "think_harm_refuse, solve, help, overrefuse; 'base' draws from the base model's mix."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    world_seed: Annotated[int, typer.Option(help="Seed of the world.")] = 0,
) -> None:
    """Show prompts of a family from a split, optionally with a world-written response."""
    from harmlab.world import SafetyWorld
    from harmlab.world.corpus import BaseBehaviour, write
    from harmlab.world.responses import WRITERS, Style

    world = SafetyWorld(world_seed)
    prompts = world.sample(split, family, n, seed=seed)  # type: ignore[arg-type]
    if kind is not None and kind != "base" and kind not in WRITERS:
        raise HarmlabError(f"unknown response kind {kind!r}; valid: base, {', '.join(WRITERS)}")
    rng, behaviour = random.Random(seed), BaseBehaviour()
    for prompt in prompts:
        console.rule(f"[bold]{prompt.id}[/] {_describe(prompt)}")
        console.print(prompt.text, markup=False)
        if kind is not None:
            chosen = behaviour.kind(prompt, rng) if kind == "base" else kind
            style = behaviour.style(prompt, rng) if kind == "base" else Style()
            response = write(world, prompt, chosen, style, rng)
            console.print(f"[dim]{chosen} →[/]", response, markup=True, highlight=False)
            console.print(f"[dim]gold: {world.judge.judge(prompt, response).rationale}[/]")


def _describe(prompt: Any) -> str:
    parts = [prompt.family, prompt.language]
    if prompt.category:
        parts.append(prompt.category)
    if prompt.wrapper:
        parts.append(f"wrapper={prompt.wrapper}")
    if prompt.obfuscation:
        parts.append(f"name={prompt.obfuscation}")
    if prompt.held_out_axis:
        parts.append(f"held out: {prompt.held_out_axis}")
    if prompt.difficulty:
        parts.append(f"difficulty={prompt.difficulty} answer={prompt.answer}")
    return " · ".join(parts)
