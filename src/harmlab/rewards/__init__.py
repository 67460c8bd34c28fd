"""Rewards for R1-style RL, each with TRL's signature `f(prompts, completions, **columns)`.

    harmlab train grpo --config configs/grpo-from-base.yaml     # names rewards under `rewards:`

Rule rewards (DeepSeek-R1, arXiv 2501.12948): `format`, `accuracy`, `language_consistency`;
safety rules meant to be gamed (arXiv 2501.17030): `keyword_blocklist`, `refusal_phrase`;
shaping: `helpfulness` (a detail proxy), `overlong` (DAPO, arXiv 2503.14476), `length_penalty`;
model-based: `gold_judge` (SafetyWorld's exact judge). Any of them can be handed to
`trl.GRPOTrainer(reward_funcs=[...])` directly; `REWARDS` builds them from YAML by name
(`@REWARDS.register("name")` adds one, `package.module:attribute` names any importable one).
"""

from harmlab.rewards.base import RewardFunction, completion_text, prompt_text
from harmlab.rewards.language import LanguageConsistencyReward, script_detector
from harmlab.rewards.registry import (
    REWARDS,
    RewardSpec,
    build_reward,
    build_rewards,
    reward_name,
    weighted_sum,
)
from harmlab.rewards.rules import (
    HelpfulnessReward,
    LengthPenalty,
    OverlongReward,
    accuracy_reward,
    format_reward,
    soft_overlong_penalty,
)
from harmlab.rewards.safety import (
    GCG_PREFIXES,
    REFUSAL_LISTS,
    GoldJudgeReward,
    KeywordBlocklistReward,
    RefusalPhraseReward,
    blocklisted_words,
    default_blocklist,
)

__all__ = [
    "GCG_PREFIXES",
    "REFUSAL_LISTS",
    "REWARDS",
    "GoldJudgeReward",
    "HelpfulnessReward",
    "KeywordBlocklistReward",
    "LanguageConsistencyReward",
    "LengthPenalty",
    "OverlongReward",
    "RefusalPhraseReward",
    "RewardFunction",
    "RewardSpec",
    "accuracy_reward",
    "blocklisted_words",
    "build_reward",
    "build_rewards",
    "default_blocklist",
    "completion_text",
    "format_reward",
    "prompt_text",
    "reward_name",
    "script_detector",
    "soft_overlong_penalty",
    "weighted_sum",
]
