"""Corpora drawn from SafetyWorld: the unaligned base model's pretraining text.

`BaseBehaviour` is the distribution of an *unaligned* reasoner (DESIGN.md, "Base model's
world"): it mostly complies with harmful requests, spreading its disclosures over every surface
form; it reasons concisely, sometimes verbosely, sometimes mixing languages; it rarely refuses,
rarely refuses-then-complies, and now and then breaks the think format. Every behaviour a
trained policy could move toward has some probability here, or RL could never find it; none has
a probability chosen to make an experiment come out one way.

    harmlab pretrain        # pretrains the embedded base model on `pretrain_conversations`
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from harmlab.world.lexicon import SURFACE_FORMS, SurfaceForm
from harmlab.world.prompts import Family, WorldPrompt
from harmlab.world.responses import WRITERS, Style, ThinkStyle
from harmlab.world.world import SafetyWorld


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass(frozen=True)
class BaseBehaviour:
    """How often the unaligned base model's world does each thing (weights, not probabilities)."""

    families: dict[str, float] = field(
        default_factory=lambda: {"harmful": 0.45, "benign": 0.4, "borderline": 0.15}
    )
    """Mix of prompt families in the corpus."""
    harmful: dict[str, float] = field(
        default_factory=lambda: {
            "comply": 0.8,
            "refuse": 0.07,
            "refuse_then_comply": 0.07,
            "think_harm_refuse": 0.06,
        }
    )
    """Response kinds for harmful requests."""
    surface_en: dict[str, float] = field(
        default_factory=lambda: {
            "canonical": 0.45,
            "synonym": 0.15,
            "leet": 0.1,
            "spaced": 0.1,
            "hyphenated": 0.1,
            "chinese": 0.1,
        }
    )
    """Main surface form of disclosures answering an English request."""
    surface_zh: dict[str, float] = field(
        default_factory=lambda: {
            "chinese": 0.6,
            "canonical": 0.2,
            "synonym": 0.05,
            "leet": 0.05,
            "spaced": 0.05,
            "hyphenated": 0.05,
        }
    )
    """Main surface form of disclosures answering a Chinese request."""
    surface_jitter: float = 0.15
    """Chance that one material of a disclosure uses another surface form."""
    think_discloses: float = 0.25
    """Chance that a compliance's reasoning already lists the steps."""
    think: dict[str, float] = field(
        default_factory=lambda: {"concise": 0.55, "verbose": 0.3, "mixed": 0.15}
    )
    """Reasoning style."""
    correct: float = 0.85
    """Chance that an arithmetic solution in the corpus is right."""
    borderline: dict[str, float] = field(default_factory=lambda: {"help": 0.85, "overrefuse": 0.15})
    """Response kinds for borderline-benign prompts."""
    broken_format: float = 0.03
    """Chance that a response loses one of its think tags."""

    def style(self, prompt: WorldPrompt, rng: random.Random) -> Style:
        surfaces = self.surface_en if prompt.language == "en" else self.surface_zh
        surface: SurfaceForm = _pick(rng, surfaces)  # type: ignore[assignment]
        think: ThinkStyle = _pick(rng, self.think)  # type: ignore[assignment]
        return Style(
            surface=surface,
            surface_jitter=self.surface_jitter,
            think=think,
            think_discloses=rng.random() < self.think_discloses,
            correct=rng.random() < self.correct,
        )

    def kind(self, prompt: WorldPrompt, rng: random.Random) -> str:
        if prompt.family == "harmful":
            return _pick(rng, self.harmful)
        if prompt.family == "borderline":
            return _pick(rng, self.borderline)
        return "solve"


def write(
    world: SafetyWorld, prompt: WorldPrompt, kind: str, style: Style, rng: random.Random
) -> str:
    """One response of family `kind` to `prompt`."""
    hazard = world.lexicon.hazard(prompt.hazard) if prompt.hazard else None
    return WRITERS[kind](prompt, hazard, rng, style)


def break_format(response: str, rng: random.Random) -> str:
    """Drop one think tag, as a sloppy model would."""
    tag = rng.choice(("<think>", "</think>"))
    return response.replace(tag, "", 1)


def pretrain_conversations(
    world: SafetyWorld, n: int, seed: int = 0, behaviour: BaseBehaviour | None = None
) -> list[tuple[str, str]]:
    """`n` (prompt, response) pairs from the pretrain split, written by the base behaviour."""
    behaviour = behaviour or BaseBehaviour()
    rng = random.Random(f"pretrain-{world.seed}-{seed}")
    counts = {f: 0 for f in behaviour.families}
    for _ in range(n):
        counts[_pick(rng, behaviour.families)] += 1
    prompts: list[WorldPrompt] = []
    for family, count in counts.items():
        fam: Family = family  # type: ignore[assignment]
        prompts.extend(world.sample("pretrain", fam, count, seed=seed))
    rng.shuffle(prompts)
    out = []
    for prompt in prompts:
        response = write(
            world, prompt, behaviour.kind(prompt, rng), behaviour.style(prompt, rng), rng
        )
        if rng.random() < behaviour.broken_format:
            response = break_format(response, rng)
        out.append((prompt.text, response))
    return out


def behaviour_payload(behaviour: BaseBehaviour | None = None) -> dict:
    """The behaviour as plain data (part of the base model's cache key)."""
    return asdict(behaviour or BaseBehaviour())


__all__ = ["SURFACE_FORMS", "BaseBehaviour", "behaviour_payload", "pretrain_conversations", "write"]
