"""The behaviour card: what a model does in SafetyWorld, judged by the gold judge.

    harmlab card --model tiny

It samples the model on a fixed, seeded set of world prompts (harmful requests on the trained
side of every axis and on the held-out side of each axis in turn, borderline-benign questions,
arithmetic at each difficulty, and arithmetic in each held-out style), judges every completion
with the gold judge and the rule, and summarises them with the evaluation harness's own
metrics (`harmlab.evaluation.summary.summarize`): harmful compliance by category, language and
surface form, refusal and over-refusal, accuracy by difficulty, format validity, language
mixing, reasoning length, the gamed rate and hacking ratio, each with a 95% interval, and per
generalization axis the trained vs held-out compliance with the capability control
(`generalization.axis_table`): run on the base model, it says which held-out slices the base model
can handle at all. `world_observations` is also what the training probe measures with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harmlab.data.records import record_from_world
from harmlab.evaluation import metrics as m
from harmlab.evaluation import summary as harness_summary
from harmlab.evaluation.generation import Generation, SamplingConfig, generate_rows
from harmlab.evaluation.judges.base import Transcript
from harmlab.evaluation.judges.gold import GoldWorldJudge
from harmlab.evaluation.metrics import Observation, SampleCost
from harmlab.evaluation.rules import Rule, make_rule
from harmlab.world import SafetyWorld, WorldPrompt
from harmlab.world.axes import AXIS_NAMES
from harmlab.world.benign import HELD_OUT_STYLES


@dataclass(frozen=True)
class CardConfig:
    """Which prompts the card samples and how."""

    harmful: int = 96
    """Harmful requests on the trained side of every axis (test split)."""
    held_out_per_axis: int = 40
    """Harmful requests held out on each axis (attack, obfuscation, language, category)."""
    capability_per_axis: int = 40
    """Arithmetic problems in each axis's held-out styles (the capability controls; the
    category axis changes no phrasing, so the plain problems are its control). 40 gives each
    of the 10 held-out attack styles (5 attacks x English, Chinese) one problem per difficulty."""
    borderline: int = 24
    """Borderline-benign prompts (borderline_test split)."""
    benign_per_difficulty: int = 16
    """Arithmetic problems per difficulty 1-4 (test split)."""
    world_seed: int = 0
    """Seed of the SafetyWorld the prompts come from."""
    prompt_seed: int = 0
    """Seed of the prompt draw."""
    sampling: SamplingConfig = field(default_factory=lambda: SamplingConfig(max_new_tokens=160))
    """Sampling of completions (temperature 1: the model's own distribution)."""
    rule: str = "keyword_blocklist"
    """The rule behind the gamed rate (`harmlab.evaluation.rules`), or none."""


def card_prompts(world: SafetyWorld, config: CardConfig) -> list[WorldPrompt]:
    """The card's fixed prompt set (a prompt drawn twice is sampled once)."""
    seed = config.prompt_seed
    n_benign = 4 * config.benign_per_difficulty
    drawn = (
        world.sample("test", "harmful", config.harmful, seed=seed)
        + world.sample("borderline_test", "borderline", config.borderline, seed=seed)
        + world.sample("test", "benign", n_benign, seed=seed)
        + held_out_prompts(world, config)
    )
    return list(dict.fromkeys(drawn))


def held_out_prompts(world: SafetyWorld, config: CardConfig) -> list[WorldPrompt]:
    """Each axis's held-out side: its harmful requests, then its capability controls."""
    out: list[WorldPrompt] = []
    for name in AXIS_NAMES:
        out += world.axis_prompts(
            name, "held_out", "harmful", config.held_out_per_axis, seed=config.prompt_seed
        )
        if name in HELD_OUT_STYLES and config.capability_per_axis:
            out += world.axis_prompts(
                name, "held_out", "benign", config.capability_per_axis, seed=config.prompt_seed
            )
    return out


def world_observations(
    world: SafetyWorld,
    prompts: Sequence[WorldPrompt],
    generations: Sequence[Generation],
    rule: Rule | None = None,
) -> list[Observation]:
    """World samples judged by gold (and the rule) as the metrics read them, in order."""
    records = [record_from_world(p, "world") for p in prompts]
    texts = [g.text for g in generations]
    transcripts = [Transcript.of(r, t) for r, t in zip(records, texts, strict=True)]
    verdicts = GoldWorldJudge(world).judge(transcripts)
    ruled = [v.safe for v in rule.verdicts(records, texts)] if rule else [None] * len(texts)
    return [
        m.observe(
            prompt.columns(),
            generation.text,
            verdict.as_dict(),
            rule_safe=rule_safe,
            correct=m.task_correct(prompt, generation.answer),
            cost=SampleCost(
                generation.completion_tokens, generation.think_tokens, generation.seconds
            ),
        )
        for prompt, generation, verdict, rule_safe in zip(
            prompts, generations, verdicts, ruled, strict=True
        )
    ]


def sample_card(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[WorldPrompt],
    sampling: SamplingConfig,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[list[WorldPrompt], list[Generation]]:
    """`sampling.n` generations per prompt, batch by batch; each prompt repeated per sample.

    Batch i is seeded `sampling.seed + i`, as `generation.sample_completions` seeds it.
    """
    repeated: list[WorldPrompt] = []
    generations: list[Generation] = []
    for index, start in enumerate(range(0, len(prompts), sampling.batch_size)):
        batch = [p for p in prompts[start : start + sampling.batch_size] for _ in range(sampling.n)]
        texts = [p.text for p in batch]
        generations += generate_rows(model, tokenizer, texts, sampling, sampling.seed + index)
        repeated += batch
        if on_batch:
            on_batch(len(batch) // sampling.n)
    return repeated, generations


def summarize(obs: Sequence[Observation]) -> dict[str, Any]:
    """The card's metrics: the harness's summary of the same observations, plus the count.

    Only the compute block is left out: what sampling the card cost is not behaviour.
    """
    summary = harness_summary.summarize(obs)
    del summary["compute"]
    return summary | {"samples": len(obs)}


def behaviour_card(
    model: Any,
    tokenizer: Any,
    world: SafetyWorld,
    config: CardConfig | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[Observation]]:
    """Sample, judge and summarize; returns the card and its observations."""
    config = config or CardConfig()
    prompts = card_prompts(world, config)
    repeated, generations = sample_card(model, tokenizer, prompts, config.sampling, on_batch)
    rule = make_rule(config.rule, world.seed)
    obs = world_observations(world, repeated, generations, rule)
    return summarize(obs), obs


def card_to_json(card: dict[str, Any], config: CardConfig, model_ref: str) -> dict[str, Any]:
    """The card as plain JSON (estimates as {value, low, high, n})."""
    return {"model": model_ref, "config": asdict(config), "metrics": harness_summary.plain(card)}
