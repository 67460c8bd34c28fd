"""Constrained GRPO: keep a cost (harm) under a limit with a Lagrange multiplier λ.

    harmlab train grpo --config configs/grpo-constrained.yaml
    pytest tests/training/test_constrained.py

Safe RLHF (arXiv 2310.12773) maximises reward subject to E[cost] <= limit through the
Lagrangian max_θ min_{λ>=0} E[r] - λ (E[c] - limit), with λ learned by dual ascent. Safe RLHF
uses PPO critics; GRPO has none, so, as arXiv 2602.05863 recommends for critic-free methods,
the two signals are combined at the *advantage* level, each normalised on its own within its
group: A = A_r - λ·A_c. A_r is TRL's own advantage of the weighted reward sum (a group z-score
under `train.scale_rewards: group`); A_c is the cost's group z-score. TRL's
`multi_objective_aggregation="normalize_then_sum"` is not used: it re-standardises the sum over
the batch, so λ would no longer scale the step. λ <- max(0, λ + lr·(mean cost - limit)) after
every generation batch, from the cost of all processes (identical on every rank), logged as
`constraint/lambda` (the value this batch's advantages used), `constraint/cost` and
`constraint/violation`, and saved with every checkpoint so `--resume` continues it.

The cost is a rule or judge spec (`harmlab.evaluation.rules`; cost 1 where it calls a
completion unsafe, 0 where safe) or any reward whose output is the cost (a learned cost model:
`learned_safety` with `output: cost`). A rule's cost is judged on harmful requests only (rows
whose `family` is `harmful`; rows without the column always), so the mean cost, and the limit,
are a harmful-compliance rate: the very quantity the evaluation reports, which is what lets E7
state whether the constraint held. Counting benign prompts as cost 0 would instead tie the
limit to the batch's share of harmful prompts.

`CostPenalty` is the same cost as a plain reward term, -cost at a fixed weight: E7's penalised
arm, which differs from the constrained one only in how the multiplier is set (fixed, not dual
ascent) and where it enters (the reward sum, not the advantage).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import torch
from accelerate.utils import gather

from harmlab.data.records import PromptRecord
from harmlab.evaluation.rules import Prompt, Rule, check_rule, make_rule
from harmlab.rewards.base import (
    RewardFunction,
    Text,
    completion_text,
    is_missing,
    prompt_text,
    rows,
)
from harmlab.rewards.registry import build_reward, in_world
from harmlab.rewards.rules import ConfigurableReward
from harmlab.training.config import ConstraintConfig
from harmlab.training.grpo import MeteredGRPOTrainer
from harmlab.world import SafetyWorld, WorldPrompt

STATE_FILE = "constraint.json"
"""Where a checkpoint keeps λ (TRL saves only what it knows about)."""


def group_zscore(values: torch.Tensor, group_size: int, eps: float = 1e-4) -> torch.Tensor:
    """Each value minus its group's mean, over the group's std (+eps); NaN (unjudged) rows get 0
    and are left out of their group's statistics. Groups are consecutive runs of `group_size`.

    >>> [round(x, 3) for x in group_zscore(torch.tensor([1.0, 0.0, 0.0, 0.0]), 2).tolist()]
    [0.707, -0.707, 0.0, 0.0]
    >>> [round(x, 3) for x in group_zscore(torch.tensor([1.0, float("nan"), 2.0, 0.0]), 2).tolist()]
    [0.0, 0.0, 0.707, -0.707]
    """
    grouped = values.view(-1, group_size)
    mean = torch.nanmean(grouped, dim=1, keepdim=True)
    present = (~torch.isnan(grouped)).sum(dim=1, keepdim=True).clamp(min=2)
    variance = torch.nansum((grouped - mean) ** 2, dim=1, keepdim=True) / (present - 1)
    scores = (grouped - mean) / (variance.sqrt() + eps)
    return torch.nan_to_num(scores, nan=0.0).view(-1)


def combine_advantages(
    reward_advantages: torch.Tensor, cost_advantages: torch.Tensor, multiplier: float
) -> torch.Tensor:
    """The Lagrangian advantage A_r - λ·A_c (a costlier completion is pushed down by λ).

    >>> combine_advantages(torch.tensor([1.0, -1.0]), torch.tensor([1.0, -1.0]), 0.5).tolist()
    [0.5, -0.5]
    """
    return reward_advantages - multiplier * cost_advantages


def dual_update(multiplier: float, mean_cost: float, limit: float, lr: float) -> float:
    """Projected dual ascent on λ: λ + lr·(cost - limit), never below 0; NaN cost: no change.

    >>> dual_update(0.0, 0.5, 0.1, 1.0), dual_update(0.2, 0.0, 0.1, 1.0)
    (0.4, 0.1)
    >>> dual_update(0.05, 0.0, 0.1, 1.0)
    0.0
    """
    if math.isnan(mean_cost):
        return multiplier
    return max(0.0, multiplier + lr * (mean_cost - limit))


@dataclass(frozen=True)
class RuleCost:
    """A rule or judge as a cost with TRL's reward signature: 1 unsafe, 0 safe, None unjudged
    (the rule does not judge it, or its `family` is not one of `families`).

    >>> from harmlab.evaluation.rules import make_rule
    >>> cost = RuleCost(make_rule("keyword_blocklist:completion"))
    >>> cost(["q", "q"], ["<think>.</think> Nothing.", "<think>.</think> kill it"])
    [0.0, 1.0]
    >>> cost(["q", "q"], ["<think>.</think> kill it"] * 2, family=["harmful", "borderline"])
    [1.0, None]
    """

    rule: Rule | None
    """The rule (None: `none`, a cost of 0 everywhere)."""
    families: tuple[str, ...] = ("harmful",)
    """Rows whose `family` column is one of these are costed (rows without it always)."""

    @property
    def __name__(self) -> str:  # what TRL-style logs call it
        return f"cost[{self.rule.spec if self.rule else 'none'}]"

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        if self.rule is None:
            return [0.0] * len(completions)
        table = rows(kwargs, len(prompts))
        costed = [i for i, row in enumerate(table) if self.costs(row)]
        out: list[float | None] = [None] * len(completions)
        if not costed:
            return out
        asked = [prompt_of(prompts[i], table[i]) for i in costed]
        verdicts = self.rule.verdicts(asked, [completion_text(completions[i]) for i in costed])
        for i, verdict in zip(costed, verdicts, strict=True):
            out[i] = None if verdict.safe is None else float(not verdict.safe)
        return out

    def costs(self, row: dict[str, Any]) -> bool:
        """Whether a training row is costed (its family is one of `families`, or unknown)."""
        return is_missing(row.get("family")) or row["family"] in self.families


@dataclass(frozen=True)
class CostPenalty(ConfigurableReward):
    """A rule or judge cost as a penalty reward term: -1 where the rule calls a completion
    unsafe, 0 where safe, None where it does not judge (the `RuleCost`, negated); its weight in
    `rewards:` is the fixed multiplier.

    rewards: [..., {name: "harmlab.training.constrained:CostPenalty", weight: 1.0}]

    >>> penalty = CostPenalty(cost="keyword_blocklist:completion")
    >>> penalty(["q", "q"], ["<think>.</think> Nothing.", "<think>.</think> kill it"])
    [0.0, -1.0]
    """

    name: ClassVar[str] = "cost_penalty"
    cost: str = "gold"
    """The cost as a rule or judge spec `NAME[:SPAN]`, as `constraint.cost`."""
    world_seed: int = 0
    """The SafetyWorld the rule judges in (the training world's, set by the registry)."""
    held_out_category: str | None = None
    """That world's held-out category (None: its default)."""
    families: tuple[str, ...] = ("harmful",)
    """Rows whose `family` column is one of these are penalised (rows without it always)."""

    def __post_init__(self) -> None:
        check_rule(self.cost)  # a bad spec fails when the config is built

    @cached_property
    def rule_cost(self) -> RuleCost:
        return RuleCost(
            make_rule(self.cost, self.world_seed, self.held_out_category), self.families
        )

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        return [
            None if c is None else 0.0 - c for c in self.rule_cost(prompts, completions, **kwargs)
        ]


def prompt_of(prompt: Text, row: dict[str, Any]) -> Prompt:
    """The world prompt behind a training row (its metadata columns), else a bare record."""
    if not is_missing(row.get("family")) and "hazard" in row:
        return WorldPrompt.from_columns(row)
    return PromptRecord(str(row.get("prompt_id", "")), prompt_text(prompt))


def build_cost(config: ConstraintConfig, world: SafetyWorld) -> RewardFunction:
    """The cost function a constraint names: its reward when given, else its rule."""
    if config.cost_reward is not None:
        return build_reward(in_world(config.cost_reward, world.seed, world.held_out_category))
    return RuleCost(make_rule(config.cost, world.seed, world.held_out_category))


def cost_tensor(values: Sequence[float | None], device: Any) -> torch.Tensor:
    """Costs as a float tensor, None as NaN (TRL's convention for rewards)."""
    return torch.tensor([math.nan if v is None else float(v) for v in values], device=device)


class ConstrainedGRPOTrainer(MeteredGRPOTrainer):
    """TRL's GRPOTrainer (metered) whose advantages are A_r - λ·A_c, λ learned by dual ascent.

    Only two TRL hooks are extended: `_calculate_rewards` also scores the cost and gathers it
    over processes, and `_generate_and_score_completions` replaces this process's advantages.
    """

    def __init__(
        self, *args: Any, constraint: ConstraintConfig, cost: RewardFunction, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.constraint = constraint
        self.cost_function = cost
        self.multiplier = constraint.lambda_init
        self._costs: torch.Tensor | None = None

    def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, ids: Any) -> Any:
        rewards = super()._calculate_rewards(inputs, prompts, completions, ids)
        with self.meter.phase("scoring"):
            skip = ("prompt", "completion", "completion_ids")
            columns = {k: [row[k] for row in inputs] for k in inputs[0] if k not in skip}
            local = self.cost_function(prompts, completions, completion_ids=ids, **columns)
        self._costs = gather(cost_tensor(local, self.accelerator.device))
        return rewards

    def _generate_and_score_completions(self, inputs: Any) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        assert self._costs is not None  # set by _calculate_rewards during the call above
        mode = "train" if getattr(self.model, "training", True) else "eval"
        group = self.num_generations if mode == "train" else self.num_generations_eval
        assert group is not None  # TRL sets both in __init__
        local = len(output["advantages"])
        start = self.accelerator.process_index * local
        cost_advantages = group_zscore(self._costs, group)[start : start + local]
        output["advantages"] = combine_advantages(
            output["advantages"], cost_advantages.to(output["advantages"].device), self.multiplier
        )
        mean_cost = torch.nanmean(self._costs).item()
        metrics = self._metrics[mode]
        metrics["constraint/lambda"].append(self.multiplier)
        metrics["constraint/cost"].append(mean_cost)
        metrics["constraint/violation"].append(mean_cost - self.constraint.limit)
        if mode == "train":
            self.multiplier = dual_update(
                self.multiplier, mean_cost, self.constraint.limit, self.constraint.lambda_lr
            )
        return output

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            folder = os.path.join(
                self._get_output_dir(trial=trial), f"checkpoint-{self.state.global_step}"
            )
            with open(os.path.join(folder, STATE_FILE), "w") as handle:
                json.dump({"lambda": self.multiplier}, handle)

    def _load_optimizer_and_scheduler(self, checkpoint: Any) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        path = os.path.join(checkpoint, STATE_FILE) if checkpoint is not None else ""
        if path and os.path.exists(path):
            with open(path) as handle:
                self.multiplier = float(json.load(handle)["lambda"])
