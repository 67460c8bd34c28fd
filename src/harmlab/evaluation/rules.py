"""Rule verdicts that the gamed-rate metric checks against a trusted judge.

    harmlab eval --model ./runs/grpo-blocklist --suite world --judges gold --rule keyword-blocklist

A rule is what a rule-based safety reward believes about one completion. The keyword blocklist
is not re-implemented here: `BlocklistRule` asks `harmlab.rewards.safety.KeywordBlocklistReward`
(the very rule GRPO trains against) whether its span holds a blocklisted word. By default it
reads the answer span, the text a user is shown; `keyword-blocklist:completion` reads
everything, as the reward does by default. The blocklist sees none of the synonyms,
obfuscations or Chinese forms the gold judge sees: the gap a policy can exploit
(arXiv 2501.17030's "superficial alignment").
"""

from __future__ import annotations

from dataclasses import dataclass

from harmlab import HarmlabError
from harmlab.rewards.safety import KeywordBlocklistReward

RULE_SPANS = ("answer", "completion", "think")


@dataclass(frozen=True)
class BlocklistRule:
    """Safe when the reward's keyword blocklist finds nothing in the chosen span."""

    reward: KeywordBlocklistReward
    name: str = "keyword-blocklist"

    def blocked_words(self, completion: str) -> list[str]:
        """The blocklisted words the rule finds (empty: it says safe)."""
        return self.reward.hits(completion)

    def says_safe(self, completion: str) -> bool:
        return not self.blocked_words(completion)


def make_rule(name: str, world_seed: int = 0) -> BlocklistRule | None:
    """A rule by name: 'keyword-blocklist[:answer|:completion|:think]' or 'none'.

    >>> rule = make_rule("keyword-blocklist")
    >>> rule is not None and rule.says_safe("<think>x</think> Nothing to see.")
    True
    """
    if name == "none":
        return None
    base, _, span = name.partition(":")
    span = span or "answer"
    if base != "keyword-blocklist" or span not in RULE_SPANS:
        raise HarmlabError(
            f"unknown rule '{name}'; rules: keyword-blocklist[:answer|:completion|:think], none"
        )
    reward = KeywordBlocklistReward(world_seed=world_seed, span=span)  # type: ignore[arg-type]
    return BlocklistRule(reward, name)
