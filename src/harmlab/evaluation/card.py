"""The behaviour card: what a model does in SafetyWorld, judged by the gold judge.

    harmlab card --model tiny

It samples the model on a fixed, seeded set of world prompts (harmful requests of the training
categories and of the held-out ones, borderline-benign questions, arithmetic at each
difficulty), judges every completion with the gold judge, and reports harmful compliance by
category, language and surface form, refusal and over-refusal, accuracy by difficulty, format
validity, language mixing and reasoning length, each with a bootstrap 95% interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harmlab.evaluation import metrics as m
from harmlab.evaluation.generation import SamplingConfig, sample_completions
from harmlab.evaluation.intervals import estimate
from harmlab.evaluation.metrics import Observation
from harmlab.world import GoldVerdict, SafetyWorld, WorldPrompt
from harmlab.world.language import word_languages


@dataclass(frozen=True)
class CardConfig:
    """Which prompts the card samples and how."""

    harmful: int = 96
    """Harmful requests of the training categories (test split)."""
    held_out: int = 48
    """Harmful requests of the held-out categories (heldout_test split)."""
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


@dataclass(frozen=True)
class JudgedSample:
    """One completion and its gold verdict."""

    prompt: WorldPrompt
    completion: str
    verdict: GoldVerdict


def card_prompts(world: SafetyWorld, config: CardConfig) -> list[WorldPrompt]:
    """The card's fixed prompt set."""
    seed = config.prompt_seed
    n_benign = 4 * config.benign_per_difficulty
    return (
        world.sample("test", "harmful", config.harmful, seed=seed)
        + world.sample("heldout_test", "harmful", config.held_out, seed=seed)
        + world.sample("borderline_test", "borderline", config.borderline, seed=seed)
        + world.sample("test", "benign", n_benign, seed=seed)
    )


def observation(sample: JudgedSample) -> Observation:
    """A gold-judged sample as the metric formulas of `harmlab.evaluation.metrics` read it."""
    prompt, verdict = sample.prompt, sample.verdict
    return Observation(
        family=prompt.family,
        category=prompt.category,
        held_out=prompt.held_out,
        language=prompt.language,
        difficulty=prompt.difficulty,
        wrapper=prompt.wrapper,
        harmful=verdict.harmful,
        think_harmful=verdict.think.harmful,
        refused=verdict.answer.refused,
        correct=bool(verdict.correct) if prompt.family == "benign" else None,
        surface_forms=tuple(verdict.answer.surface_forms),
        mixed=verdict.language_mixed,
        format_valid=verdict.format_valid,
    )


def think_words(sample: JudgedSample) -> int:
    from harmlab.reasoning_format import split_response

    return len(word_languages(split_response(sample.completion).think))


def summarize(samples: Sequence[JudgedSample]) -> dict[str, Any]:
    """The card's metrics: the harness's formulas (`evaluation.metrics`) on gold verdicts."""
    obs = [observation(s) for s in samples]
    trained, everything = m.requests(obs, held_out=False), m.requests(obs)
    by_language: Callable[[Observation], str] = lambda o: o.language  # noqa: E731
    return {
        "harmful_compliance": m.harmful_compliance_rate(obs, held_out=False),
        "harmful_compliance_held_out": m.harmful_compliance_rate(obs, held_out=True),
        "harmful_compliance_by_category": m.breakdown(
            everything, lambda o: o.category, m.harmful_compliance_rate
        ),
        "harmful_compliance_by_language": m.breakdown(
            trained, by_language, m.harmful_compliance_rate
        ),
        "harmful_compliance_by_wrapper": m.breakdown(
            trained, lambda o: o.wrapper or "none", m.harmful_compliance_rate
        ),
        "surface_form_share": m.surface_form_share(obs),
        "refusal": m.refusal_rate(obs, held_out=False),
        "harm_behind_refusal": m.harm_behind_refusal_rate(obs),
        "over_refusal": m.over_refusal_rate(obs),
        "accuracy": m.accuracy(obs),
        "accuracy_by_difficulty": m.breakdown(
            [o for o in obs if o.family == "benign"], lambda o: str(o.difficulty), m.accuracy
        ),
        "format_validity": m.format_validity(obs),
        "language_mixing": m.language_mixing_rate(obs),
        "think_words": estimate([think_words(s) for s in samples]) if samples else None,
        "samples": len(samples),
    }


def behaviour_card(
    model: Any,
    tokenizer: Any,
    world: SafetyWorld,
    config: CardConfig | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[JudgedSample]]:
    """Sample, judge and summarize; returns the card and its judged samples."""
    config = config or CardConfig()
    prompts = card_prompts(world, config)
    completions = sample_completions(
        model, tokenizer, [p.text for p in prompts], config.sampling, on_batch
    )
    samples = [
        JudgedSample(p, c, world.judge.judge(p, c))
        for p, group in zip(prompts, completions, strict=True)
        for c in group
    ]
    return summarize(samples), samples


def card_to_json(card: dict[str, Any], config: CardConfig, model_ref: str) -> dict[str, Any]:
    """The card as plain JSON (estimates as {value, low, high, n})."""
    return {"model": model_ref, "config": asdict(config), "metrics": m.plain(card)}
