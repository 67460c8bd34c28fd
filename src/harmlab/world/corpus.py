"""Corpora drawn from SafetyWorld: the unaligned base model's pretraining text.

`BaseBehaviour` is the distribution of an *unaligned* reasoner (DESIGN.md, "Base model's
world"): it mostly complies with harmful requests, spreading its disclosures over every surface
form; it reasons concisely, sometimes verbosely, sometimes mixing languages; it rarely refuses,
rarely refuses-then-complies, and now and then breaks the think format. Every behaviour a
trained policy could move toward has some probability here, or RL could never find it; none has
a probability chosen to make an experiment come out one way.

It also says how often the corpus shows each value of each generalization axis (`axes`): the
held-out attack styles, obfuscated names and Velan (about 5% of conversations) appear with the
same response mix as everything else, so the base model can comply there and can solve
arithmetic phrased that way. Those shares replace part of the trained-side material rather
than adding to it, so the corpus keeps its size in tokens.

    harmlab pretrain        # pretrains the embedded base model on `pretrain_conversations`
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from harmlab.world.benign import BenignStyle
from harmlab.world.language import phrasebook
from harmlab.world.lexicon import SURFACE_FORMS, SurfaceForm
from harmlab.world.prompts import WorldPrompt, attacks_of
from harmlab.world.responses import WRITERS, Style, ThinkStyle
from harmlab.world.world import SafetyWorld

_HELD_OUT_ATTACK_SHARE = 0.032
"""Weight of each held-out attack style (five of them: 16% of harmful requests)."""


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
    request_languages: dict[str, float] = field(
        default_factory=lambda: {"en": 0.6, "zh": 0.34, "vl": 0.06}
    )
    """Language of harmful requests (Velan is the held-out side of the language axis)."""
    attacks: dict[str, float] = field(
        default_factory=lambda: {
            "": 0.2,
            "fiction": 0.16,
            "roleplay": 0.16,
            "ignore": 0.16,
            "research": 0.16,
            "prefix_injection": _HELD_OUT_ATTACK_SHARE,
            "refusal_suppression": _HELD_OUT_ATTACK_SHARE,
            "past_tense": _HELD_OUT_ATTACK_SHARE,
            "payload_split": _HELD_OUT_ATTACK_SHARE,
            "few_shot": _HELD_OUT_ATTACK_SHARE,
        }
    )
    """Attack style of harmful requests, within the styles their language has."""
    names: dict[str, float] = field(
        default_factory=lambda: {
            "canonical": 0.4,
            "synonym": 0.4,
            "chinese": 0.8,
            "velan": 1.0,
            "leet": 0.05,
            "spaced": 0.05,
            "hyphenated": 0.05,
            "cipher": 0.05,
        }
    )
    """How a request names its hazard, within the forms its language uses."""
    benign_languages: dict[str, float] = field(
        default_factory=lambda: {"en": 0.47, "zh": 0.47, "vl": 0.06}
    )
    """Language of arithmetic problems."""
    benign_attacks: dict[str, float] = field(
        default_factory=lambda: {
            "": 0.8,
            "fiction": 0.02,
            "roleplay": 0.02,
            "ignore": 0.02,
            "research": 0.02,
            "prefix_injection": 0.024,
            "refusal_suppression": 0.024,
            "past_tense": 0.024,
            "payload_split": 0.024,
            "few_shot": 0.024,
        }
    )
    """Attack style an arithmetic problem is phrased in (the capability controls' styles)."""
    benign_obfuscation: dict[str, float] = field(
        default_factory=lambda: {
            "": 0.9,
            "leet": 0.025,
            "spaced": 0.025,
            "hyphenated": 0.025,
            "cipher": 0.025,
        }
    )
    """Obfuscation of an English problem's object word."""
    surface_en: dict[str, float] = field(
        default_factory=lambda: {
            "canonical": 0.42,
            "synonym": 0.15,
            "leet": 0.09,
            "spaced": 0.09,
            "hyphenated": 0.09,
            "cipher": 0.05,
            "chinese": 0.09,
            "velan": 0.02,
        }
    )
    """Main surface form of disclosures answering an English request."""
    surface_zh: dict[str, float] = field(
        default_factory=lambda: {
            "chinese": 0.58,
            "canonical": 0.18,
            "synonym": 0.05,
            "leet": 0.05,
            "spaced": 0.05,
            "hyphenated": 0.04,
            "cipher": 0.03,
            "velan": 0.02,
        }
    )
    """Main surface form of disclosures answering a Chinese request."""
    surface_vl: dict[str, float] = field(
        default_factory=lambda: {
            "velan": 0.55,
            "canonical": 0.2,
            "synonym": 0.05,
            "chinese": 0.05,
            "leet": 0.05,
            "spaced": 0.04,
            "hyphenated": 0.03,
            "cipher": 0.03,
        }
    )
    """Main surface form of disclosures answering a Velan request."""
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
        surfaces = {"en": self.surface_en, "zh": self.surface_zh, "vl": self.surface_vl}[
            prompt.language
        ]
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


def harmful_draw(
    world: SafetyWorld, n: int, rng: random.Random, behaviour: BaseBehaviour
) -> list[WorldPrompt]:
    """`n` pretraining requests: a language by its weight, then a (attack style, name form)
    cell of that language by the product of their weights, then a request of that cell."""
    cells: dict[str, dict[tuple[str, str], list[WorldPrompt]]] = defaultdict(dict)
    for prompt in world.prompts("pretrain", "harmful"):
        cells[prompt.language].setdefault((prompt.wrapper, prompt.obfuscation), []).append(prompt)
    languages = {k: w for k, w in behaviour.request_languages.items() if cells[k]}
    out = []
    for _ in range(n):
        by_cell = cells[_pick(rng, languages)]
        weights = {
            cell: behaviour.attacks.get(cell[0], 0.0) * behaviour.names.get(cell[1], 0.0)
            for cell in by_cell
        }
        cell = rng.choices(list(weights), weights=list(weights.values()))[0]
        out.append(rng.choice(by_cell[cell]))
    return out


def benign_styles(n: int, rng: random.Random, behaviour: BaseBehaviour) -> list[BenignStyle]:
    """`n` styles of pretraining problems, each axis value drawn by its weight."""
    out = []
    for _ in range(n):
        language = _pick(rng, behaviour.benign_languages)
        supported = attacks_of(phrasebook(language))
        attacks = {k: w for k, w in behaviour.benign_attacks.items() if k in supported}
        obfuscation = _pick(rng, behaviour.benign_obfuscation) if language == "en" else ""
        out.append(BenignStyle(language, _pick(rng, attacks), obfuscation))  # type: ignore[arg-type]
    return out


def pretrain_records(
    world: SafetyWorld, n: int, seed: int = 0, behaviour: BaseBehaviour | None = None
) -> list[tuple[WorldPrompt, str]]:
    """`n` (prompt record, response) pairs from the pretrain split, written by the base
    behaviour (the records say which axis values the corpus shows, and grade its answers)."""
    behaviour = behaviour or BaseBehaviour()
    rng = random.Random(f"pretrain-{world.seed}-{seed}")
    counts = {f: 0 for f in behaviour.families}
    for _ in range(n):
        counts[_pick(rng, behaviour.families)] += 1
    prompts = harmful_draw(world, counts.get("harmful", 0), rng, behaviour)
    styles = benign_styles(counts.get("benign", 0), rng, behaviour)
    prompts += world.draw_benign("pretrain", styles, seed=seed)
    prompts += world.sample("pretrain", "borderline", counts.get("borderline", 0), seed=seed)
    rng.shuffle(prompts)
    out = []
    for prompt in prompts:
        response = write(
            world, prompt, behaviour.kind(prompt, rng), behaviour.style(prompt, rng), rng
        )
        if rng.random() < behaviour.broken_format:
            response = break_format(response, rng)
        out.append((prompt, response))
    return out


def pretrain_conversations(
    world: SafetyWorld, n: int, seed: int = 0, behaviour: BaseBehaviour | None = None
) -> list[tuple[str, str]]:
    """`n` (prompt, response) pairs from the pretrain split, written by the base behaviour."""
    return [(p.text, r) for p, r in pretrain_records(world, n, seed, behaviour)]


def behaviour_payload(behaviour: BaseBehaviour | None = None) -> dict:
    """The behaviour as plain data (part of the base model's cache key)."""
    return asdict(behaviour or BaseBehaviour())


__all__ = [
    "SURFACE_FORMS",
    "BaseBehaviour",
    "behaviour_payload",
    "pretrain_conversations",
    "pretrain_records",
    "write",
]
