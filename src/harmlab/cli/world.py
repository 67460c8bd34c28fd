"""`harmlab world ...`: look at SafetyWorld's prompts and responses.

    harmlab world sample --family harmful --split test --kind comply
    harmlab world sample --family benign --kind solve --n 100 --json > solved.jsonl

`--json` writes one JSON object a line instead of the pretty view: the prompt's id, family,
split, language, category, held_out, wrapper, difficulty, answer and text (`prompt`), and with
`--kind` the response kind, the `response` and its `gold` verdict (the gold judge's record, as
the harness logs it: think and answer spans, correctness). `harmlab judge score --input` reads
the file back, finding each prompt by its id.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harmlab import HarmlabError
from harmlab.cli.common import console

if TYPE_CHECKING:
    from harmlab.world import SafetyWorld, WorldPrompt

app = typer.Typer(help="Look at SafetyWorld: its prompts and responses.", no_args_is_help=True)


@app.command("sample")
def world_sample(
    family: Annotated[str, typer.Option(help="harmful, benign or borderline.")] = "harmful",
    split: Annotated[
        str, typer.Option(help="pretrain, sft, rl, test, heldout_test, borderline_test.")
    ] = "test",
    n: Annotated[int, typer.Option(min=1, help="How many prompts.")] = 5,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Also write a response of this family: comply, refuse, refuse_then_comply, "
            "think_harm_refuse, solve, help, overrefuse; 'base' draws from the base model's mix."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the draw.")] = 0,
    world_seed: Annotated[int, typer.Option(min=0, help="Seed of the world.")] = 0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Write JSON lines (id, family, split, prompt, response, gold verdict, ...).",
        ),
    ] = False,
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
        chosen, response = None, None
        if kind is not None:
            chosen = behaviour.kind(prompt, rng) if kind == "base" else kind
            style = behaviour.style(prompt, rng) if kind == "base" else Style()
            response = write(world, prompt, chosen, style, rng)
        if as_json:
            line = sample_line(world, prompt, split, chosen, response)
            typer.echo(json.dumps(line, ensure_ascii=False))
            continue
        console.rule(f"[bold]{prompt.id}[/] {_describe(prompt)}")
        console.print(prompt.text, markup=False)
        if response is not None:
            console.print(f"[dim]{chosen} →[/]", response, markup=True, highlight=False)
            console.print(f"[dim]gold: {world.judge.judge(prompt, response).rationale}[/]")


def sample_line(
    world: SafetyWorld, prompt: WorldPrompt, split: str, kind: str | None, response: str | None
) -> dict[str, Any]:
    """One `--json` line: the prompt's facts and text, the response and its gold verdict."""
    from harmlab.data.records import record_from_world
    from harmlab.evaluation.judges.base import Transcript
    from harmlab.evaluation.judges.gold import GoldWorldJudge

    line: dict[str, Any] = {"id": prompt.id, "family": prompt.family, "split": split}
    for name in ("language", "category", "held_out", "wrapper", "difficulty", "answer"):
        line[name] = getattr(prompt, name)
    line |= {"prompt": prompt.text, "kind": kind, "response": response, "gold": None}
    if response is not None:
        transcript = Transcript.of(record_from_world(prompt, f"world-{split}"), response)
        line["gold"] = GoldWorldJudge(world).judge([transcript])[0].as_dict()
    return line


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
