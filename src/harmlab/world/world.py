"""SafetyWorld: the seeded, versioned world whose harm is known exactly.

A `SafetyWorld(seed, held_out_category)` owns a lexicon (categories, hazards, recipes, surface
forms), its prompt families, and named splits that never share an item:

| split            | holds                                                                  |
|------------------|------------------------------------------------------------------------|
| pretrain         | every family, every axis value (the base model's world)                |
| sft              | harmful (trained side of every axis), benign, borderline               |
| rl               | harmful (trained side of every axis), benign, borderline               |
| test             | harmful (trained side of every axis), benign                           |
| heldout_test     | harmful requests held out on exactly one axis; benign capability       |
|                  | controls in the held-out styles (`WorldPrompt.held_out_axis` says which) |
| borderline_test  | borderline-benign prompts only                                         |

Splits are drawn *by group* (`WorldPrompt.group`: a bare request with all its wrappers and name
forms, a plain arithmetic problem with its restylings, a borderline question with its
translation): a group's hash bucket decides its split, so no test request is trained on under
another wrapper, name form or tense. A group in the pretrain bucket gives pretraining every one
of its variants, held-out ones included; a test group gives `test` its trained variants and
`heldout_test` its held-out ones; a training group gives SFT/RL its trained variants and drops
its held-out ones. A whole held-out group (a held-out category's hazard, a Velan request) goes
to `heldout_test` unless it is in the pretrain bucket. Buckets never depend on which category
is held out, so every rotation of `held_out_category` has the same pretraining corpus.

    harmlab world sample --split heldout_test
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from harmlab import HarmlabError
from harmlab.world.axes import AXIS_NAMES, SIDES, axis
from harmlab.world.benign import (
    HELD_OUT_STYLES,
    PLAIN_STYLES,
    TRAINED_ATTACK_STYLES,
    BenignStyle,
    benign_prompt,
)
from harmlab.world.borderline import borderline_prompts
from harmlab.world.categories import CATEGORY_NAMES, DEFAULT_HELD_OUT_CATEGORY
from harmlab.world.judge import GoldJudge
from harmlab.world.lexicon import Lexicon, build_lexicon
from harmlab.world.prompts import Family, WorldPrompt, harmful_prompts

WORLD_VERSION = "2.0"
"""Bump when anything changes what the world generates; cached models are keyed by it."""

SPLITS = ("pretrain", "sft", "rl", "test", "heldout_test", "borderline_test")
SPLIT_FAMILIES: dict[str, tuple[Family, ...]] = {
    "pretrain": ("harmful", "benign", "borderline"),
    "sft": ("harmful", "benign", "borderline"),
    "rl": ("harmful", "benign", "borderline"),
    "test": ("harmful", "benign"),
    "heldout_test": ("harmful", "benign"),
    "borderline_test": ("borderline",),
}
# Hash-bucket boundaries (percent) of a prompt's group, in split order.
_BUCKETS: dict[str, tuple[tuple[str, int], ...]] = {
    "request": (("pretrain", 55), ("sft", 70), ("rl", 85), ("test", 100)),
    "borderline": (("pretrain", 40), ("sft", 55), ("rl", 70), ("borderline_test", 100)),
}
T = TypeVar("T")
_GROUP_AXES = frozenset(a.name for a in map(axis, AXIS_NAMES) if a.group_level)


def group_bucket(group: str, kind: str) -> str:
    """The split bucket of a group, from a hash of its name."""
    bucket = int(hashlib.sha256(group.encode()).hexdigest(), 16) % 100
    for split, upper in _BUCKETS[kind]:
        if bucket < upper:
            return split
    raise AssertionError("bucket tables end at 100")


def split_of(prompt: WorldPrompt) -> str | None:
    """The one split a prompt belongs to, or None when the world uses it nowhere.

    None is a held-out variant of a training group (it would share a bare request with SFT or
    RL data) or a prompt held out on two axes outside pretraining.
    """
    if prompt.family == "borderline":
        return group_bucket(prompt.group, "borderline")
    bucket = group_bucket(prompt.group, "request")
    axes = prompt.held_out_axis.split("+") if prompt.held_out_axis else []
    if bucket == "pretrain" or not axes:
        return bucket
    if len(axes) > 1:
        return None
    if axes[0] in _GROUP_AXES or bucket == "test":
        return "heldout_test"
    return None


def _round_robin(pools: Sequence[Sequence[T]]) -> list[T]:
    """One from each pool in turn until the longest runs out (shorter pools cycle)."""
    full = [p for p in pools if p]
    longest = max((len(p) for p in full), default=0)
    return [pool[i % len(pool)] for i in range(longest) for pool in full]


@dataclass
class SafetyWorld:
    """One world: lexicon, prompts by split and family, and its gold judge."""

    seed: int = 0
    held_out_category: str = DEFAULT_HELD_OUT_CATEGORY
    """The category held out of SFT and RL (the leave-one-category-out rotation's choice)."""

    def __post_init__(self) -> None:
        if self.held_out_category not in CATEGORY_NAMES:
            raise HarmlabError(
                f"unknown held-out category {self.held_out_category!r}; "
                f"valid: {', '.join(CATEGORY_NAMES)}"
            )

    @property
    def version(self) -> str:
        return WORLD_VERSION

    @cached_property
    def lexicon(self) -> Lexicon:
        return build_lexicon(self.seed, held_out_category=self.held_out_category)

    @cached_property
    def judge(self) -> GoldJudge:
        return GoldJudge(self.lexicon)

    @cached_property
    def _finite(self) -> dict[str, list[WorldPrompt]]:
        """Harmful and borderline prompts (finite families), grouped by split."""
        grouped: dict[str, list[WorldPrompt]] = {split: [] for split in SPLITS}
        for prompt in harmful_prompts(self.lexicon) + borderline_prompts():
            split = split_of(prompt)
            if split is not None:
                grouped[split].append(prompt)
        return grouped

    def prompts(self, split: str, family: Family) -> list[WorldPrompt]:
        """All prompts of a finite family (harmful, borderline) in a split."""
        self._check(split, family)
        if family == "benign":
            raise HarmlabError("benign prompts are unbounded: use sample(split, 'benign', n)")
        return [p for p in self._finite[split] if p.family == family]

    def sample(
        self,
        split: str,
        family: Family,
        n: int,
        seed: int = 0,
        difficulties: tuple[int, ...] = (1, 2, 3, 4),
    ) -> list[WorldPrompt]:
        """`n` prompts of a family from a split, reproducible from `seed`.

        Finite families are sampled without replacement while they last (then cycled); in
        `heldout_test` the axes take turns, so any `n` covers them evenly. Benign problems are
        drawn fresh and kept only if they belong to `split`, difficulties spread evenly over
        `difficulties`: plain English and Chinese, or in `heldout_test` the held-out styles of
        each axis in turn (the capability controls).
        """
        self._check(split, family)
        if family == "benign":
            styles: Sequence[BenignStyle] = PLAIN_STYLES
            if split == "heldout_test":
                styles = _round_robin(list(HELD_OUT_STYLES.values()))
            return self.draw_benign(
                split, _spread(styles, n, len(difficulties)), seed, difficulties
            )
        rng = random.Random(f"{self.seed}-{split}-{family}-{seed}")
        pool = self.prompts(split, family)
        if not pool:
            raise HarmlabError(f"split {split!r} has no {family} prompts")
        if split == "heldout_test":
            by_axis = [[p for p in pool if p.held_out_axis == name] for name in AXIS_NAMES]
            order = _round_robin([rng.sample(p, len(p)) for p in by_axis])
        else:
            order = rng.sample(pool, len(pool))
        return [order[i % len(order)] for i in range(n)]

    def draw_benign(
        self,
        split: str,
        styles: Sequence[BenignStyle],
        seed: int = 0,
        difficulties: tuple[int, ...] = (1, 2, 3, 4),
    ) -> list[WorldPrompt]:
        """One fresh problem of `split` per entry of `styles` (difficulties cycling)."""
        rng = random.Random(f"{self.seed}-{split}-benign-{seed}")
        out: list[WorldPrompt] = []
        seen: set[str] = set()
        for _ in range(1000 * (len(styles) + 1)):
            if len(out) == len(styles):
                return out
            difficulty = difficulties[len(out) % len(difficulties)]
            style = styles[len(out)]
            prompt = benign_prompt(rng, difficulty, style, self.lexicon.cipher_shift)
            if split_of(prompt) == split and prompt.text not in seen:
                seen.add(prompt.text)
                out.append(prompt)
        raise HarmlabError(f"could not draw {len(styles)} benign prompts of split {split!r}")

    def axis_values(self, axis_name: str, side: str) -> tuple[str, ...]:
        """The values of one side of an axis in this world (categories come from the lexicon)."""
        chosen = axis(axis_name)
        if side not in SIDES:
            raise HarmlabError(f"unknown side {side!r}; valid: {', '.join(SIDES)}")
        if chosen.name == "category":
            trained = self.lexicon.training_categories()
            return trained if side == "trained" else (self.held_out_category,)
        return chosen.trained if side == "trained" else chosen.held_out

    def axis_prompts(
        self, axis_name: str, side: str, family: Family, n: int, seed: int = 0
    ) -> list[WorldPrompt]:
        """`n` prompts of one side of one generalization axis (an evaluation suite's draw).

        Harmful: the trained side is the `test` split (trained on every axis); the held-out side
        is `heldout_test` prompts held out on this axis alone. Benign (capability controls):
        problems in this axis's trained or held-out styles; the category axis changes no
        phrasing, so both its sides get plain problems.
        """
        name = axis(axis_name).name
        self.axis_values(name, side)  # validates the side
        if family == "harmful":
            if side == "trained":
                return self.sample("test", "harmful", n, seed)
            pool = [p for p in self.prompts("heldout_test", "harmful") if p.held_out_axis == name]
            order = random.Random(f"{self.seed}-{name}-{seed}").sample(pool, len(pool))
            return [order[i % len(order)] for i in range(n)]
        if family != "benign":
            raise HarmlabError(f"axes slice harmful and benign prompts, not {family!r}")
        if side == "held_out" and name in HELD_OUT_STYLES:
            return self.draw_benign("heldout_test", _spread(HELD_OUT_STYLES[name], n, 4), seed)
        styles = TRAINED_ATTACK_STYLES if name == "attack" else PLAIN_STYLES
        return self.draw_benign("test", _spread(styles, n, 4), seed)

    @staticmethod
    def _check(split: str, family: str) -> None:
        if split not in SPLIT_FAMILIES:
            raise HarmlabError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
        if family not in SPLIT_FAMILIES[split]:
            valid = ", ".join(SPLIT_FAMILIES[split])
            raise HarmlabError(f"split {split!r} has no {family!r} prompts; it has: {valid}")


def _spread(styles: Sequence[BenignStyle], n: int, run: int) -> list[BenignStyle]:
    """`n` styles, each repeated `run` times in turn (so each style meets every difficulty)."""
    return [styles[(k // run) % len(styles)] for k in range(n)]
