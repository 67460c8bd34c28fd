"""Rewards by name: the registry that YAML configs and the CLI address, and weighted composition.

    rewards:                                  # in a training config
      - {name: format, weight: 0.5}
      - {name: keyword_blocklist, params: {span: answer}}
      - {name: mypkg.rewards:toxicity}        # escape hatch: any importable reward

    @REWARDS.register("brevity")              # in your code: addressable as `brevity`
    def brevity(prompts, completions, **columns): ...

A registered reward is either a plain reward function (no settings) or a `ConfigurableReward`
class whose dataclass fields are its settings; `params` are checked against those fields like
any config key. `build_rewards` returns the functions and weights that TRL's `GRPOTrainer`
takes as `reward_funcs` and `GRPOConfig.reward_weights`; `weighted_sum` composes them into one
reward with TRL's semantics (None contributes nothing; None when every term is None).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from harmlab import HarmlabError
from harmlab.config import ConfigError, build
from harmlab.registry import Registry
from harmlab.rewards.base import RewardFunction, Text

RewardEntry = Callable[..., Any]
"""A reward function, or a dataclass whose instances are reward functions."""

REWARDS = Registry[RewardEntry](
    "reward",
    {
        "format": "harmlab.rewards.rules:format_reward",
        "accuracy": "harmlab.rewards.rules:accuracy_reward",
        "language_consistency": "harmlab.rewards.language:LanguageConsistencyReward",
        "keyword_blocklist": "harmlab.rewards.safety:KeywordBlocklistReward",
        "refusal_phrase": "harmlab.rewards.safety:RefusalPhraseReward",
        "helpfulness": "harmlab.rewards.rules:HelpfulnessReward",
        "overlong": "harmlab.rewards.rules:OverlongReward",
        "length_penalty": "harmlab.rewards.rules:LengthPenalty",
        "gold_judge": "harmlab.rewards.safety:GoldJudgeReward",
        "learned_safety": "harmlab.rewards.learned:LearnedSafetyReward",
        "learned_safety_adaptive": "harmlab.rewards.learned:AdaptiveLearnedSafetyReward",
    },
    accepts=callable,
)
"""Rewards by name; `@REWARDS.register("name")` adds one."""


@dataclass
class RewardSpec:
    """One term of a training reward, as written in YAML."""

    name: str
    """A registered reward name, or `package.module:attribute` for any importable reward."""
    weight: float = 1.0
    """Its weight in the sum of rewards (TRL's `reward_weights`)."""
    params: dict[str, Any] = field(default_factory=dict)
    """Settings of a configurable reward (its dataclass fields); empty for plain functions."""


def build_reward(spec: RewardSpec) -> RewardFunction:
    """The reward function a spec describes, its params validated against the reward's fields."""
    entry = REWARDS.get(spec.name)
    source = f"reward '{spec.name}'"
    if isinstance(entry, type) and dataclasses.is_dataclass(entry):
        try:
            built = build(entry, dict(spec.params), source=source, where="params")
            return cast(RewardFunction, built)
        except ConfigError:
            raise
        except HarmlabError as error:
            raise HarmlabError(f"{source}: {error}") from error
    if isinstance(entry, type):
        made: RewardFunction = entry(**spec.params)
        return made
    if spec.params:
        raise HarmlabError(f"{source} takes no params, got: {', '.join(spec.params)}")
    return entry


def build_rewards(
    specs: Sequence[RewardSpec], world_seed: int = 0, held_out_category: str | None = None
) -> tuple[list[RewardFunction], list[float]]:
    """Reward functions and weights for TRL (`reward_funcs=`, `GRPOConfig(reward_weights=)`),
    each placed in the training world (`in_world`)."""
    if not specs:
        raise HarmlabError("no rewards configured: give at least one under 'rewards'")
    placed = [in_world(s, world_seed, held_out_category) for s in specs]
    return [build_reward(s) for s in placed], [s.weight for s in placed]


def in_world(spec: RewardSpec, world_seed: int, held_out_category: str | None) -> RewardSpec:
    """The spec with the world it grades in: a reward with `world_seed` / `held_out_category`
    settings (the keyword blocklist, gold, learned rewards) gets the training world's unless
    its params name one. Without this a run in world 3, or with another category held out,
    would be rewarded by world 0's blocklist and judge."""
    entry = REWARDS.get(spec.name)
    settings = reward_settings(entry)
    world: dict[str, Any] = {}
    if "world_seed" in settings:
        world["world_seed"] = world_seed
    if held_out_category is not None and "held_out_category" in settings:
        world["held_out_category"] = held_out_category
    if not world:
        return spec
    return dataclasses.replace(spec, params={**world, **spec.params})


def reward_settings(entry: object) -> set[str]:
    """The dataclass fields of a configurable reward (none for a plain function)."""
    return {f.name for f in dataclasses.fields(entry)} if dataclasses.is_dataclass(entry) else set()


def reward_name(function: Any) -> str:
    """The name TRL logs a reward under (`rewards/<name>/mean`)."""
    return str(getattr(function, "__name__", type(function).__name__))


def weighted_sum(functions: Sequence[RewardFunction], weights: Sequence[float]) -> RewardFunction:
    """One reward: sum of weight x reward over terms that apply; None when none applies.

    >>> from harmlab.rewards.rules import accuracy_reward, format_reward
    >>> total = weighted_sum([format_reward, accuracy_reward], [0.5, 1.0])
    >>> total(["q", "q"], ["<think>.</think> 7", "7"], answer=[7, None])
    [1.5, 0.0]
    """
    if len(functions) != len(weights):
        raise HarmlabError(f"{len(functions)} rewards but {len(weights)} weights")

    def combined(
        prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        totals: list[float | None] = [None] * len(completions)
        for function, weight in zip(functions, weights, strict=True):
            for i, value in enumerate(function(prompts, completions, **kwargs)):
                if value is not None and value == value:  # skip None and NaN
                    totals[i] = (totals[i] or 0.0) + weight * value
        return totals

    combined.__name__ = "weighted_sum"
    return combined
