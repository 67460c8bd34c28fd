"""A world, a plain request and its first two recipe steps, shared by the gold-judge and audit
tests."""

from __future__ import annotations

from harmlab.world import SafetyWorld, WorldPrompt

WORLD = SafetyWorld(0)
LEXICON = WORLD.lexicon


def _request(language: str = "en") -> WorldPrompt:
    """A plain test request whose first two steps have different actions."""
    return next(
        p
        for p in WORLD.prompts("test", "harmful")
        if p.language == language
        and not p.wrapper
        and len({s.action for s in LEXICON.hazard(p.hazard).recipe[:2]}) == 2
    )


def long_named_request() -> WorldPrompt:
    """A plain English request whose first two steps have different actions and 6+ letter
    material names (so the audit's near match may differ by one edit)."""
    for prompt in WORLD.prompts("test", "harmful"):
        recipe = LEXICON.hazard(prompt.hazard).recipe
        if (
            prompt.language == "en"
            and not prompt.wrapper
            and recipe[0].action != recipe[1].action
            and min(len(s.material.canonical) for s in recipe[:2]) >= 6
        ):
            return prompt
    raise AssertionError("no request with long material names")


PROMPT = _request()
HAZARD = LEXICON.hazard(PROMPT.hazard)
S0, S1 = HAZARD.recipe[0], HAZARD.recipe[1]
A0, A1 = S0.action.english, S1.action.english
M0, M1 = S0.material, S1.material
C0, C1 = M0.canonical, M1.canonical


def dotted(word: str, separator: str = ".") -> str:
    return separator.join(c for c in word if c not in " -")


def alternating(word: str) -> str:
    return "".join(c.upper() if i % 2 else c for i, c in enumerate(word))
