"""Constrained GRPO: the dual update of λ (table-driven), per-group normalisation of reward and
cost, rule costs from the gold judge, and TRL's trainer running with a cost constraint and a
reward from harmlab's registry (λ rises while the cost is over the limit, falls under it)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
import torch

from harmlab import HarmlabError
from harmlab.config import ConfigError, load_config
from harmlab.training.config import GRPORunConfig
from harmlab.training.constrained import (
    RuleCost,
    combine_advantages,
    dual_update,
    group_zscore,
)
from harmlab.world import SafetyWorld
from harmlab.world.corpus import write
from harmlab.world.responses import Style

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(
    ("multiplier", "cost", "limit", "lr", "expected"),
    [
        (0.0, 0.5, 0.1, 1.0, 0.4),  # over the limit: λ rises by lr × violation
        (1.0, 0.3, 0.1, 0.5, 1.1),
        (1.0, 0.0, 0.1, 1.0, 0.9),  # under the limit: λ falls
        (0.05, 0.0, 0.1, 1.0, 0.0),  # ... but never below zero
        (0.0, 0.0, 0.1, 1.0, 0.0),
        (0.7, 0.1, 0.1, 1.0, 0.7),  # at the limit: unchanged
        (0.7, math.nan, 0.1, 1.0, 0.7),  # no row judged: unchanged
    ],
)
def test_dual_update(
    multiplier: float, cost: float, limit: float, lr: float, expected: float
) -> None:
    assert dual_update(multiplier, cost, limit, lr) == pytest.approx(expected)


def test_lambda_rises_while_over_the_limit_and_falls_under_it() -> None:
    costs = [0.6] * 5 + [0.0] * 12
    multiplier, path = 0.0, []
    for cost in costs:
        multiplier = dual_update(multiplier, cost, limit=0.2, lr=0.5)
        path.append(multiplier)
    rising, falling = path[:5], path[5:]
    assert all(b > a for a, b in zip(rising, rising[1:], strict=False))
    assert all(b <= a for a, b in zip(falling, falling[1:], strict=False))
    assert path[-1] == 0.0


def test_each_group_is_normalised_on_its_own() -> None:
    values = torch.tensor([1.0, 0.0, 1.0, 0.0, 100.0, 0.0, 100.0, 0.0])
    scores = group_zscore(values, 4)
    # scale does not leak between groups: both groups get the same z-scores
    assert torch.allclose(scores[:4], scores[4:], atol=1e-3)  # up to the eps in the std
    assert torch.allclose(scores.view(2, 4).mean(dim=1), torch.zeros(2), atol=1e-6)
    constant = group_zscore(torch.tensor([1.0, 1.0, 0.0, 1.0]), 2)
    assert constant[:2].tolist() == [0.0, 0.0]  # no contrast in a group: no cost signal


def test_combined_advantage_favours_the_cheaper_of_two_equally_rewarded_completions() -> None:
    rewards = group_zscore(torch.tensor([1.0, 1.0, 0.0, 0.0]), 4)
    costs = group_zscore(torch.tensor([1.0, 0.0, 0.0, 0.0]), 4)
    plain = combine_advantages(rewards, costs, 0.0)
    constrained = combine_advantages(rewards, costs, 2.0)
    assert plain[0] == plain[1]
    assert constrained[1] > 0 > constrained[0]  # the harmful one is pushed down below zero


def test_gold_rule_cost_is_one_for_a_disclosure_and_zero_for_a_refusal() -> None:
    world = SafetyWorld(0)
    prompt = world.sample("rl", "harmful", 1)[0]
    rng = random.Random(0)
    comply = write(world, prompt, "comply", Style(), rng)
    refuse = write(world, prompt, "refuse", Style(), rng)
    columns = {k: [v, v] for k, v in prompt.columns().items()}
    from harmlab.evaluation.rules import make_rule

    cost = RuleCost(make_rule("gold", 0))
    assert cost([prompt.text] * 2, [comply, refuse], **columns) == [1.0, 0.0]


def test_gold_cost_and_its_penalty_judge_harmful_requests_only() -> None:
    """The mean cost is then harmful compliance, the rate E7 checks the limit against."""
    from harmlab.evaluation.rules import make_rule
    from harmlab.training.constrained import CostPenalty

    world = SafetyWorld(0)
    harmful, benign = world.sample("rl", "harmful", 1)[0], world.sample("rl", "benign", 1)[0]
    comply = write(world, harmful, "comply", Style(), random.Random(0))
    columns = {k: [harmful.columns()[k], benign.columns()[k]] for k in harmful.columns()}
    prompts, completions = [harmful.text, benign.text], [comply, comply]
    assert RuleCost(make_rule("gold", 0))(prompts, completions, **columns) == [1.0, None]
    assert CostPenalty(cost="gold")(prompts, completions, **columns) == [-1.0, None]
    with pytest.raises(HarmlabError, match="unknown rule .nope."):
        CostPenalty(cost="nope")


def test_shipped_constrained_config_loads_and_a_bad_cost_names_its_key() -> None:
    config = load_config(GRPORunConfig, CONFIGS / "grpo-constrained.yaml")
    assert config.constraint is not None and config.constraint.cost == "gold"
    with pytest.raises(ConfigError, match="constraint.cost"):
        load_config(GRPORunConfig, CONFIGS / "grpo-constrained.yaml", ["constraint.cost=nope"])


def always_harmful(prompts: Any, completions: list[Any], **kwargs: Any) -> list[float]:
    """A cost of 1 on every completion (the constraint is always violated)."""
    return [1.0] * len(completions)


def never_harmful(prompts: Any, completions: list[Any], **kwargs: Any) -> list[float]:
    """A cost of 0 on every completion (the constraint always holds)."""
    return [0.0] * len(completions)


COSTS = {name: f"{__name__}:{name}" for name in ("always_harmful", "never_harmful")}
"""The costs above by the registry's escape hatch (pytest imports this file as a module)."""


def _train(
    model: Path, run: Path, cost: str, lambda_init: float, resume: bool = False
) -> list[dict[str, Any]]:
    from harmlab.training.grpo import train_grpo

    config = load_config(
        GRPORunConfig,
        None,
        [
            f"model={model}",
            f"output_dir={run}",
            "threads=1",
            "prompts.size=16",
            "train.steps=3",
            "train.prompts_per_step=2",
            "train.num_generations=4",
            "train.max_completion_length=16",
            "train.save_every=2",
            "monitor.every=0",
            f"constraint={{cost_reward: {{name: {cost}}}, limit: 0.25, "
            f"lambda_init: {lambda_init}, lambda_lr: 0.5}}",
        ],
    )
    torch.set_num_threads(1)
    train_grpo(config, resume=resume)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_trl_trainer_logs_lambda_rising_over_the_limit(micro_model: Path, tmp_path: Path) -> None:
    records = _train(micro_model, tmp_path / "run", COSTS["always_harmful"], 0.0)
    assert len(records) == 3
    assert [r["constraint/cost"] for r in records] == [1.0, 1.0, 1.0]
    assert [r["constraint/violation"] for r in records] == pytest.approx([0.75] * 3)
    assert [r["constraint/lambda"] for r in records] == pytest.approx([0.0, 0.375, 0.75])
    assert "rewards/format_reward/mean" in records[0]  # harmlab's registry rewards still train
    saved = json.loads((tmp_path / "run" / "checkpoint-2" / "constraint.json").read_text())
    assert saved["lambda"] == pytest.approx(0.75)  # λ after step 2's update, for --resume


def test_trl_trainer_lowers_lambda_under_the_limit(micro_model: Path, tmp_path: Path) -> None:
    records = _train(micro_model, tmp_path / "run", COSTS["never_harmful"], 0.3)
    lambdas = [r["constraint/lambda"] for r in records]
    assert lambdas == pytest.approx([0.3, 0.175, 0.05])


def test_resume_continues_lambda_from_the_checkpoint(micro_model: Path, tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "run"
    _train(micro_model, run, COSTS["always_harmful"], 0.0)
    # as if killed during step 3: only checkpoint-2 survives
    for name in ("checkpoint-3", "final"):
        shutil.rmtree(run / name, ignore_errors=True)
    (run / "summary.json").unlink(missing_ok=True)
    records = _train(micro_model, run, COSTS["always_harmful"], 0.0, resume=True)
    assert [r["step"] for r in records] == [1, 2, 3]
    assert records[-1]["constraint/lambda"] == pytest.approx(0.75)  # not lambda_init again
    saved = json.loads((run / "checkpoint-3" / "constraint.json").read_text())
    assert saved["lambda"] == pytest.approx(1.125)  # step 3 trained again, from the restored λ
