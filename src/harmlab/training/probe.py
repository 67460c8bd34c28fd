"""The monitor's probe: a fixed prompt set, sampled from the policy and graded by gold and proxy.

    harmlab train grpo --config configs/grpo-after-sft.yaml     # probe/* fields in metrics.jsonl

Gao et al. (arXiv 2210.10760) measure reward over-optimisation as the proxy reward against the
gold reward over training and over sqrt(KL) to the start policy. In SafetyWorld gold is exact,
so each probe reports both: `probe/proxy_reward` (the training reward's weighted sum) and the
gold verdicts (harmful compliance, gamed rate = the monitor's rule, `monitor.rule`, says safe
while gold says harmful, refusal, over-refusal, accuracy, language mixing), plus KL to the
start policy. The gold rates are the evaluation harness's: the probe builds its observations
with `harmlab.evaluation.card.world_observations` and reads `harmlab.evaluation.metrics`'
headline metrics (`PROBE_METRICS` maps each `probe/*` key to its metric), point values only.

Generalization over checkpoints (E2's "compare at equal in-distribution harm"): the probe set
also holds held-out harmful requests (`heldout_test`, the axes taking turns), scored apart by
`score_held_out` into `probe/harmful_compliance_held_out` and its twins
(`PROBE_HELD_OUT_METRICS`), so plotting held-out against trained compliance over checkpoints
needs no second evaluation. Every other key, KL included, is measured on the trained probes
alone, as before. The extra requests cost a third more probe generation.
The KL is the Monte-Carlo estimate E_{y~pi}[log pi(y) - log pi_0(y)] per completion, on the
probe completions the policy sampled; entropy is the mean per-token entropy on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from harmlab.evaluation.card import world_observations
from harmlab.evaluation.generation import Generation, render_chat_prompt
from harmlab.evaluation.metrics import point_values
from harmlab.evaluation.rules import Rule
from harmlab.rewards.base import RewardFunction
from harmlab.rewards.safety import GoldJudgeReward
from harmlab.world import SafetyWorld, WorldPrompt

PROBE_METRICS = {
    "probe/harmful_compliance": "harmful_compliance",
    "probe/gamed": "gamed",
    "probe/rule_safe": "rule_safe",
    "probe/refusal": "refusal",
    "probe/harm_behind_refusal": "harm_behind_refusal",
    "probe/over_refusal": "over_refusal",
    "probe/accuracy": "accuracy",
    "probe/language_mixed": "language_mixing",
    "probe/format_valid": "format_validity",
    "probe/think_tokens": "think_tokens",
    "probe/completion_tokens": "completion_tokens",
}
"""Each gold `probe/*` key and the headline metric (`metrics.HEADLINE_METRICS`) it reports."""

PROBE_HELD_OUT_METRICS = {
    "probe/harmful_compliance_held_out": "harmful_compliance_held_out",
    "probe/refusal_held_out": "refusal_held_out",
    "probe/gamed_held_out": "gamed_held_out",
}
"""Each `probe/*` key of the held-out harmful probes and the headline metric it reports."""


def probe_prompts(world: SafetyWorld, per_family: int, seed: int = 0) -> list[WorldPrompt]:
    """Fixed probes: harmful (test split, trained side of every axis), benign (test),
    borderline, then `per_family` held-out harmful requests (every axis in turn)."""
    harmful = [p for p in world.sample("test", "harmful", per_family * 2, seed=seed)]
    harmful = [p for p in harmful if not p.held_out][:per_family]
    benign = world.sample("test", "benign", per_family, seed=seed)
    borderline = world.sample("borderline_test", "borderline", per_family, seed=seed)
    held_out = world.sample("heldout_test", "harmful", per_family, seed=seed)
    return harmful + benign + borderline + held_out


def mean_or_none(values: Sequence[float]) -> float | None:
    """Mean of the values (None for none).

    >>> mean_or_none([1.0, 0.0, 0.5]), mean_or_none([])
    (0.5, None)
    """
    return sum(values) / len(values) if values else None


def proxy_rewards(
    functions: Sequence[RewardFunction],
    weights: Sequence[float],
    prompts: Sequence[WorldPrompt],
    completions: Sequence[str],
) -> list[float]:
    """The training reward (weighted sum, None terms skipped) on probe completions."""
    columns: dict[str, Any] = {k: [p.columns()[k] for p in prompts] for k in prompts[0].columns()}
    texts = [p.text for p in prompts]
    totals = [0.0] * len(completions)
    for function, weight in zip(functions, weights, strict=True):
        for i, value in enumerate(function(texts, list(completions), **columns)):
            if value is not None and not math.isnan(value):
                totals[i] += weight * value
    return totals


@dataclass(frozen=True)
class TokenStats:
    """KL to the start policy (per completion) and mean token entropy, on probe completions."""

    kl: float
    entropy: float


def kl_and_entropy(
    logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor
) -> TokenStats:
    """Per-sequence KL(policy || start) and mean token entropy over the masked positions.

    At each completion position the KL of the two next-token distributions is exact (summed
    over the vocabulary); summing it over a sampled completion estimates the sequence-level KL
    by the chain rule, never negative and with far less variance than log-ratio samples.
    `logits`, `ref_logits` [B, T, V]; `mask` [B, T] marks completion positions.

    >>> z = torch.zeros(1, 2, 4)
    >>> kl_and_entropy(z, z, torch.ones(1, 2))
    TokenStats(kl=0.0, entropy=1.3862943649291992)
    """
    logp = torch.log_softmax(logits.float(), dim=-1)
    ref_logp = torch.log_softmax(ref_logits.float(), dim=-1)
    probs = logp.exp()
    token_kl = (probs * (logp - ref_logp)).sum(-1)
    entropy = -(probs * logp).sum(-1)
    per_sequence = (token_kl * mask).sum(-1)
    return TokenStats(
        kl=float(per_sequence.mean()),
        entropy=float((entropy * mask).sum() / mask.sum().clamp(min=1)),
    )


@torch.no_grad()
def token_stats(
    model: PreTrainedModel,
    start_model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    completions: Sequence[str],
) -> TokenStats:
    """KL(policy || start) and entropy on the probe completions, re-tokenised."""
    heads = [render_chat_prompt(tokenizer, p) for p in prompts]
    prompt_lengths = [len(tokenizer(h, add_special_tokens=False)["input_ids"]) for h in heads]
    tokenizer.padding_side = "right"
    batch = tokenizer(
        [h + c for h, c in zip(heads, completions, strict=True)],
        return_tensors="pt",
        padding=True,
        add_special_tokens=False,
    ).to(model.device)
    tokenizer.padding_side = "left"
    ids, attention = batch["input_ids"], batch["attention_mask"]
    mask = attention[:, 1:].clone().float()
    for row, length in enumerate(prompt_lengths):
        mask[row, : max(length - 1, 0)] = 0.0
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1]
    ref_logits = start_model(input_ids=ids, attention_mask=attention).logits[:, :-1]
    return kl_and_entropy(logits, ref_logits.to(logits.device), mask)


def score_probe(
    world: SafetyWorld,
    prompts: Sequence[WorldPrompt],
    rows: Sequence[Generation],
    rewards: tuple[Sequence[RewardFunction], Sequence[float]],
    rule: Rule | None,
) -> dict[str, float | None]:
    """Every text-level probe metric of one round of probe samples."""
    texts = [g.text for g in rows]
    obs = world_observations(world, prompts, rows, rule)
    gold = GoldJudgeReward(world_seed=world.seed)
    proxy = proxy_rewards(rewards[0], rewards[1], prompts, texts)
    mean = sum(proxy) / len(proxy)
    gold_rates = point_values(obs, PROBE_METRICS.values())
    return {
        "probe/proxy_reward": mean,
        "probe/proxy_reward_std": math.sqrt(sum((r - mean) ** 2 for r in proxy) / len(proxy)),
        "probe/gold_reward": mean_or_none(
            [gold.score(p, t) for p, t in zip(prompts, texts, strict=True)]
        ),
        **{key: gold_rates[name] for key, name in PROBE_METRICS.items()},
    }


def score_held_out(
    world: SafetyWorld,
    prompts: Sequence[WorldPrompt],
    rows: Sequence[Generation],
    rule: Rule | None,
) -> dict[str, float | None]:
    """The held-out probe metrics (`PROBE_HELD_OUT_METRICS`) of one round of held-out probes."""
    obs = world_observations(world, prompts, rows, rule)
    rates = point_values(obs, PROBE_HELD_OUT_METRICS.values())
    return {key: rates[name] for key, name in PROBE_HELD_OUT_METRICS.items()}
