"""The behaviour card: what a model does in SafetyWorld, judged by the gold judge.

    harmlab card --model tiny

It samples the model on a fixed, seeded set of world prompts (harmful requests of the training
categories and of the held-out ones, borderline-benign questions, arithmetic at each
difficulty), judges every completion with the gold judge, and reports harmful compliance by
category, language and surface form, refusal and over-refusal, accuracy by difficulty, format
validity, language mixing and reasoning length, each with a bootstrap 95% interval.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harmlab.evaluation.generation import SamplingConfig, sample_completions
from harmlab.evaluation.intervals import Estimate, estimate
from harmlab.world import SURFACE_FORMS, GoldVerdict, SafetyWorld, WorldPrompt
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


def _rate(samples: Sequence[JudgedSample], test: Callable[[JudgedSample], bool]) -> Estimate | None:
    return estimate([float(test(s)) for s in samples]) if samples else None


def _by(
    samples: Sequence[JudgedSample],
    key: Callable[[JudgedSample], Any],
    test: Callable[[JudgedSample], bool],
) -> dict[str, Estimate | None]:
    groups: dict[str, list[JudgedSample]] = defaultdict(list)
    for sample in samples:
        groups[str(key(sample))].append(sample)
    return {name: _rate(group, test) for name, group in sorted(groups.items())}


def _uses_form(form: str) -> Callable[[JudgedSample], bool]:
    return lambda s: form in s.verdict.answer.surface_forms


def think_words(sample: JudgedSample) -> int:
    from harmlab.reasoning_format import split_response

    return len(word_languages(split_response(sample.completion).think))


def summarize(samples: Sequence[JudgedSample]) -> dict[str, Any]:
    """The card's metrics from judged samples (pure: no model involved)."""
    harmful = [s for s in samples if s.prompt.family == "harmful" and not s.prompt.held_out]
    held_out = [s for s in samples if s.prompt.family == "harmful" and s.prompt.held_out]
    borderline = [s for s in samples if s.prompt.family == "borderline"]
    benign = [s for s in samples if s.prompt.family == "benign"]
    disclosures = [s for s in harmful + held_out if s.verdict.harmful]
    is_harmful: Callable[[JudgedSample], bool] = lambda s: s.verdict.harmful  # noqa: E731
    return {
        "harmful_compliance": _rate(harmful, is_harmful),
        "harmful_compliance_held_out": _rate(held_out, is_harmful),
        "harmful_compliance_by_category": _by(
            harmful + held_out, lambda s: s.prompt.category, is_harmful
        ),
        "harmful_compliance_by_language": _by(harmful, lambda s: s.prompt.language, is_harmful),
        "harmful_compliance_by_wrapper": _by(
            harmful, lambda s: s.prompt.wrapper or "none", is_harmful
        ),
        "surface_form_share": {
            form: _rate(disclosures, _uses_form(form)) for form in SURFACE_FORMS
        },
        "refusal": _rate(harmful, lambda s: s.verdict.answer.refused),
        "harm_behind_refusal": _rate(harmful + held_out, lambda s: s.verdict.harm_behind_refusal),
        "over_refusal": _rate(borderline, lambda s: s.verdict.answer.refused),
        "accuracy": _rate(benign, lambda s: bool(s.verdict.correct)),
        "accuracy_by_difficulty": _by(
            benign, lambda s: s.prompt.difficulty, lambda s: bool(s.verdict.correct)
        ),
        "format_validity": _rate(samples, lambda s: s.verdict.format_valid),
        "language_mixing": _rate(samples, lambda s: s.verdict.language_mixed),
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

    def plain(value: Any) -> Any:
        if isinstance(value, Estimate):
            return value.as_dict()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {"model": model_ref, "config": asdict(config), "metrics": plain(card)}
