"""SafetyWorld: the seeded, versioned world whose harm is known exactly.

A `SafetyWorld(seed)` owns a lexicon (categories, hazards, recipes, surface forms), its prompt
families, and named splits that never share an item:

| split            | holds                                                              |
|------------------|--------------------------------------------------------------------|
| pretrain         | every family, held-out category included (the base model's world)  |
| sft              | harmful (training categories), benign, borderline                  |
| rl               | harmful (training categories), benign, borderline                  |
| test             | harmful (training categories), benign                              |
| heldout_test     | harmful requests of the held-out categories only                   |
| borderline_test  | borderline-benign prompts only                                     |

A prompt's split is a pure function of its text (a hash bucket), so no prompt can be in two
splits, and adding prompts to one split never moves another split's prompts.

    harmlab world sample --split heldout_test
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cached_property

from harmlab import HarmlabError
from harmlab.world.judge import GoldJudge
from harmlab.world.lexicon import Lexicon, build_lexicon
from harmlab.world.prompts import (
    LANGUAGES,
    Family,
    WorldPrompt,
    benign_prompt,
    borderline_prompts,
    harmful_prompts,
)

WORLD_VERSION = "1.0"
"""Bump when anything changes what the world generates; cached models are keyed by it."""

SPLITS = ("pretrain", "sft", "rl", "test", "heldout_test", "borderline_test")
SPLIT_FAMILIES: dict[str, tuple[Family, ...]] = {
    "pretrain": ("harmful", "benign", "borderline"),
    "sft": ("harmful", "benign", "borderline"),
    "rl": ("harmful", "benign", "borderline"),
    "test": ("harmful", "benign"),
    "heldout_test": ("harmful",),
    "borderline_test": ("borderline",),
}
# Hash-bucket boundaries (percent) per kind of prompt, in split order.
_BUCKETS: dict[str, tuple[tuple[str, int], ...]] = {
    "train_category": (("pretrain", 55), ("sft", 70), ("rl", 85), ("test", 100)),
    "held_out": (("pretrain", 60), ("heldout_test", 100)),
    "borderline": (("pretrain", 40), ("sft", 55), ("rl", 70), ("borderline_test", 100)),
}


def split_of(prompt: WorldPrompt) -> str:
    """The one split a prompt belongs to, from a hash of its text."""
    if prompt.family == "borderline":
        kind = "borderline"
    elif prompt.held_out:
        kind = "held_out"
    else:
        kind = "train_category"
    bucket = int(hashlib.sha256(prompt.text.encode()).hexdigest(), 16) % 100
    for split, upper in _BUCKETS[kind]:
        if bucket < upper:
            return split
    raise AssertionError("bucket tables end at 100")


@dataclass
class SafetyWorld:
    """One world: lexicon, prompts by split and family, and its gold judge."""

    seed: int = 0

    @property
    def version(self) -> str:
        return WORLD_VERSION

    @cached_property
    def lexicon(self) -> Lexicon:
        return build_lexicon(self.seed)

    @cached_property
    def judge(self) -> GoldJudge:
        return GoldJudge(self.lexicon)

    @cached_property
    def _finite(self) -> dict[str, list[WorldPrompt]]:
        """Harmful and borderline prompts (finite families), grouped by split."""
        grouped: dict[str, list[WorldPrompt]] = {split: [] for split in SPLITS}
        for prompt in harmful_prompts(self.lexicon) + borderline_prompts():
            grouped[split_of(prompt)].append(prompt)
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

        Finite families are sampled without replacement while they last (then cycled);
        benign problems are drawn fresh and kept only if their text hashes into `split`, with
        difficulties spread evenly over `difficulties` and languages alternating.
        """
        self._check(split, family)
        rng = random.Random(f"{self.seed}-{split}-{family}-{seed}")
        if family != "benign":
            pool = self.prompts(split, family)
            if not pool:
                raise HarmlabError(f"split {split!r} has no {family} prompts")
            order = rng.sample(pool, len(pool))
            return [order[i % len(order)] for i in range(n)]
        out: list[WorldPrompt] = []
        seen: set[str] = set()
        while len(out) < n:
            difficulty = difficulties[len(out) % len(difficulties)]
            language = LANGUAGES[(len(out) // len(difficulties)) % 2]
            prompt = benign_prompt(rng, difficulty, language)
            if split_of(prompt) == split and prompt.text not in seen:
                seen.add(prompt.text)
                out.append(prompt)
        return out

    @staticmethod
    def _check(split: str, family: str) -> None:
        if split not in SPLIT_FAMILIES:
            raise HarmlabError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
        if family not in SPLIT_FAMILIES[split]:
            valid = ", ".join(SPLIT_FAMILIES[split])
            raise HarmlabError(f"split {split!r} has no {family!r} prompts; it has: {valid}")
