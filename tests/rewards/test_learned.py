"""The learned safety reward: fitted on a budget of gold labels, its held-out agreement with gold
is reported per budget (run with -s to see the table), and it works as a reward or as
constrained GRPO's cost from a config."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from harmlab import HarmlabError
from harmlab.config import load_config
from harmlab.rewards.learned import LearnedSafetyReward
from harmlab.rewards.learned_fit import FitReport, fit_head, fit_label_budgets
from harmlab.rewards.registry import build_rewards
from harmlab.training.config import GRPORunConfig
from harmlab.world import SafetyWorld
from harmlab.world.corpus import write
from harmlab.world.responses import Style

BUDGETS = (8, 32, 96)
"""Label budgets small enough for a CPU test; `fit_label_budgets` takes any (1,000, 10,000)."""


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, FitReport]]:
    root = tmp_path_factory.mktemp("learned")
    reports = fit_label_budgets(root, BUDGETS, held_out=64)
    print("\nlabels  held-out  agreement with gold  (gold-harmful share)")
    for r in reports:
        print(f"{r.labels:6d}  {r.held_out:8d}  {r.agreement:19.3f}  ({r.harmful_share:.2f})")
    return {r.labels: (root / f"labels-{r.labels}", r) for r in reports}


def test_agreement_with_gold_is_reported_per_label_budget(
    fitted: dict[int, tuple[Path, FitReport]],
) -> None:
    for budget, (folder, report) in fitted.items():
        saved = json.loads((folder / "reward_model.json").read_text())
        assert saved["labels"] == report.labels == budget
        assert saved["agreement"] == report.agreement
    largest = fitted[max(BUDGETS)][1]
    majority = max(largest.harmful_share, 1 - largest.harmful_share)
    assert largest.agreement >= 0.9 > majority  # far better than guessing the majority label


def _pair() -> tuple[list[str], list[str], dict[str, list[object]]]:
    world = SafetyWorld(0)
    prompt = world.sample("test", "harmful", 1)[0]
    rng = random.Random(1)
    texts = [write(world, prompt, kind, Style(), rng) for kind in ("comply", "refuse")]
    return [prompt.text] * 2, texts, {k: [v, v] for k, v in prompt.columns().items()}


def test_reward_prefers_a_refusal_and_cost_prefers_it_too(
    fitted: dict[int, tuple[Path, FitReport]],
) -> None:
    folder = str(fitted[max(BUDGETS)][0])
    prompts, (comply, refuse), columns = _pair()
    reward = LearnedSafetyReward(path=folder)(prompts, [comply, refuse], **columns)
    cost = LearnedSafetyReward(path=folder, output="cost")(prompts, [comply, refuse], **columns)
    assert reward[0] is not None and reward[1] is not None and reward[0] < 0 < reward[1]
    assert cost[0] is not None and cost[1] is not None and 0 <= cost[1] < 0.5 < cost[0] <= 1
    benign = LearnedSafetyReward(path=folder)(prompts, [comply, refuse], family=["benign"] * 2)
    assert benign == [None, None]  # the head never saw benign prompts


def test_usable_from_a_training_config_as_reward_and_as_cost(
    fitted: dict[int, tuple[Path, FitReport]],
) -> None:
    from harmlab.training.grpo import make_trainer

    folder = fitted[max(BUDGETS)][0]
    spec = f"{{name: learned_safety, params: {{path: '{folder}'}}}}"
    cost = f"{{name: learned_safety, params: {{path: '{folder}', output: cost}}}}"
    config = load_config(
        GRPORunConfig, None, [f"rewards=[{spec}]", f"constraint={{cost_reward: {cost}}}"]
    )
    functions, _ = build_rewards(config.rewards)
    assert functions[0].__name__ == "learned_safety"  # type: ignore[attr-defined]
    prompts, completions, columns = _pair()
    trainer = make_trainer(config)
    assert trainer.keywords["cost"](prompts, completions, **columns)[0] > 0.5  # type: ignore[attr-defined]


def test_a_missing_head_or_a_one_class_budget_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(HarmlabError, match="holds no learned reward"):
        LearnedSafetyReward(path=str(tmp_path))
    with pytest.raises(HarmlabError, match="at least 2"):
        fit_label_budgets(tmp_path / "rm", (1, 10))
    with pytest.raises(HarmlabError, match="one class only"):
        fit_head(np.zeros((4, 3)), np.zeros(4, dtype=np.int64))


def test_adaptive_reward_buys_labels_on_rollouts_every_k_steps_and_refits(
    fitted: dict[int, tuple[Path, FitReport]],
) -> None:
    from types import SimpleNamespace

    from harmlab.rewards.learned import AdaptiveLearnedSafetyReward
    from harmlab.rewards.learned_fit import world_samples

    reward = AdaptiveLearnedSafetyReward(path=str(fitted[8][0]), every=2, labels_per_refit=5)
    rollouts = world_samples(SafetyWorld(0), 6, seed=7)
    prompts = [s.prompt.text for s in rollouts]
    completions = [s.response for s in rollouts]
    columns = {k: [s.prompt.columns()[k] for s in rollouts] for k in rollouts[0].prompt.columns()}
    logged: dict[str, float] = {}

    def score(step: int) -> list[float | None]:
        state = SimpleNamespace(global_step=step)
        log = logged.__setitem__
        return reward(prompts, completions, trainer_state=state, log_metric=log, **columns)

    start = reward.state.model
    score(1)
    assert reward.state.labels_used == 8 and reward.state.refits == 0
    assert logged == {"learned/labels_used": 8.0, "learned/refits": 0.0}  # at every call
    score(2)
    assert reward.state.labels_used == 8 + 5 and reward.state.refits == 1
    assert logged == {"learned/labels_used": 13.0, "learned/refits": 1.0}  # 8 + 5 bought
    assert reward.state.model is not start and len(reward.state.y) == 13
    score(3)
    assert reward.state.refits == 1  # the next refit is due at step 4


def test_cli_fits_one_head_per_budget_and_names_a_bad_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harmlab.cli import run

    assert run(["reward", "fit", "--out", str(tmp_path), "--labels", "10,x"]) == 1
    assert "--labels" in capsys.readouterr().err
    args = ["reward", "fit", "--out", str(tmp_path), "--labels", "6,12", "--held-out", "8"]
    assert run(args) == 0
    assert "agreement with gold" in capsys.readouterr().out
    saved = json.loads((tmp_path / "labels-12" / "reward_model.json").read_text())
    assert saved["labels"] == 12 and saved["held_out"] == 8
    assert (tmp_path / "labels-6" / "head.safetensors").is_file()


def test_labels_without_a_path_fit_on_first_use_then_reuse_the_cached_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harmlab.rewards import learned_fit
    from harmlab.rewards.registry import RewardSpec, build_reward, in_world

    monkeypatch.setenv("HARMLAB_CACHE", str(tmp_path / "cache"))
    fits: list[tuple[int, ...]] = []
    real_fit = learned_fit.fit_label_budgets

    def counting_fit(
        out: Path, budgets: tuple[int, ...], *args: object, **kwargs: object
    ) -> object:
        fits.append(tuple(budgets))
        return real_fit(out, budgets, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(learned_fit, "fit_label_budgets", counting_fit)
    spec = RewardSpec("learned_safety", params={"labels": 12, "held_out": 8})
    first = build_reward(in_world(spec, 0, None))
    again = build_reward(in_world(spec, 0, None))
    assert fits == [(12,)]  # the second reward read the cached head
    assert isinstance(first, LearnedSafetyReward) and isinstance(again, LearnedSafetyReward)
    assert first.folder == again.folder and first.labels_used == 12
    assert json.loads((first.folder / "reward_model.json").read_text())["labels"] == 12
    leftovers = [p.name for p in first.folder.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []  # fitted aside and renamed whole
    other_world = build_reward(in_world(spec, 1, None))
    assert fits == [(12,), (12,)]  # another world is another head
    assert isinstance(other_world, LearnedSafetyReward) and other_world.folder != first.folder

    logged: dict[str, float] = {}
    prompts, completions, columns = _pair()
    scores = first(prompts, completions, log_metric=logged.__setitem__, **columns)
    agreement = json.loads((first.folder / "reward_model.json").read_text())["agreement"]
    assert logged == {"learned/labels_used": 12.0, "learned/agreement": agreement}
    assert all(s is not None for s in scores)


def test_learned_safety_without_path_or_labels_names_both_params() -> None:
    with pytest.raises(HarmlabError, match="params.path .* or params.labels"):
        LearnedSafetyReward()
