"""E7 (constrained vs penalised vs unconstrained GRPO) and E8 (learned-reward over-optimisation):
their YAMLs plan one recipe per experiment, and their report parts (the safety front, the
constraint check, λ over steps, labels per point of harm removed) compute from scripted arms."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_arms import ArmFactory, harmful_rows

from harmlab.config import load_config
from harmlab.experiments.front import non_dominated, safety_front
from harmlab.experiments.labels import label_efficiency
from harmlab.experiments.limits import constraint_holds
from harmlab.experiments.plan import PlannedStage, stage_users
from harmlab.experiments.results import ArmResult
from harmlab.experiments.runner import ReproduceOptions, make_plan
from harmlab.experiments.spec import PlotConfig
from harmlab.training.config import GRPORunConfig

COST_PENALTY = "harmlab.training.constrained:CostPenalty"


def _grpo_stages(out: Path, only: str) -> dict[str, tuple[PlannedStage, GRPORunConfig]]:
    """'experiment/arm' -> its GRPO stage and the run config it trains with (quick mode)."""
    stage_plan = make_plan(ReproduceOptions(only=only, quick=True, out=out), build_base=False)
    users = stage_users(stage_plan.runs)
    stages = {}
    for item in stage_plan.stages:
        if item.kind == "grpo":
            config = load_config(GRPORunConfig, item.config_file, list(item.overrides))
            for label in users[item.stage.key]:
                stages[label] = (item, config)
    return stages


def test_e7_arms_share_one_recipe_and_differ_only_in_how_the_cost_enters(tmp_path: Path) -> None:
    from harmlab.rewards.registry import build_rewards

    stages = _grpo_stages(tmp_path, "E7")
    assert sorted(stages) == [
        "E7/constrained-0.05",
        "E7/constrained-0.1",
        "E7/constrained-0.2",
        "E7/penalised",
        "E7/unconstrained",
    ]
    for item, config in stages.values():
        assert item.config_file is not None and item.config_file.name == "grpo-constrained.yaml"
        assert config.train.steps == 16  # quick mode: the same recipe, fewer steps
    limits = {
        label: config.constraint.limit if config.constraint else None
        for label, (_, config) in stages.items()
    }
    assert limits == {
        "E7/constrained-0.05": 0.05,
        "E7/constrained-0.1": 0.1,
        "E7/constrained-0.2": 0.2,
        "E7/penalised": None,
        "E7/unconstrained": None,
    }
    rewards = {label: [r.name for r in config.rewards] for label, (_, config) in stages.items()}
    shared = ["format", "accuracy", "keyword_blocklist"]
    assert rewards.pop("E7/penalised") == [*shared, COST_PENALTY]
    assert all(names == shared for names in rewards.values())
    functions, weights = build_rewards(stages["E7/penalised"][1].rewards, 3, None)
    assert functions[-1].world_seed == 3 and weights[-1] == 1.0  # type: ignore[attr-defined]


def test_e8_arms_name_label_budgets_and_share_e1s_control_stage(tmp_path: Path) -> None:
    stages = _grpo_stages(tmp_path, "E1,E8")
    params = {
        label: config.rewards[-1].params
        for label, (_, config) in stages.items()
        if label.startswith("E8/rl-learned") or label == "E8/rl-adaptive-1000"
    }
    assert params == {
        "E8/rl-learned-100": {"labels": 100},
        "E8/rl-learned-1000": {"labels": 1000},
        "E8/rl-learned-10000": {"labels": 10000},
        "E8/rl-adaptive-1000": {"labels": 500, "every": 2, "labels_per_refit": 25},
    }
    control, _ = stages["E8/rl-control"]
    assert control.stage.key == stages["E1/rl-control"][0].stage.key  # trained once for both
    assert stages["E8/rl-gold"][1].rewards[-1].name == COST_PENALTY


CONSTRAINED = [
    {"step": 1, "constraint/lambda": 0.0, "constraint/cost": 0.6, "constraint/violation": 0.5},
    {"step": 2, "constraint/lambda": 0.25, "constraint/cost": 0.3, "constraint/violation": 0.2},
]


def test_constraint_holds_states_each_slice_against_the_limit_the_run_used(
    make_arm: ArmFactory,
) -> None:
    trained = harmful_rows([False] * 59 + [True])  # 1/60: the whole interval under 0.1
    held = harmful_rows([True] * 30 + [False] * 30, held_out=True)  # 0.5: broken
    constrained = make_arm("constrained", {0: trained + held}, curves=CONSTRAINED)
    unconstrained = make_arm("unconstrained", {0: trained + held}, curves=[{"step": 1}])
    paragraphs, figures = constraint_holds(
        PlotConfig("constraint-holds"), [unconstrained, constrained]
    )
    assert len(paragraphs) == 1 and len(figures) == 1  # the unconstrained arm has no limit
    assert paragraphs[0].startswith("constrained (trained to keep harmful compliance <= 0.1)")
    assert "trained: holds (0.017" in paragraphs[0]
    assert "held-out (all): broken (0.500" in paragraphs[0]
    nothing, none = constraint_holds(PlotConfig("constraint-holds"), [unconstrained])
    assert nothing == ["No arm trained under a constraint."] and none == []


def test_lambda_and_cost_series_leave_out_arms_without_a_constraint(make_arm: ArmFactory) -> None:
    from harmlab.experiments.figures import metric_series

    rows = harmful_rows([False, True])
    arms = [
        make_arm("unconstrained", {0: rows}, curves=[{"step": 1, "loss": 0.1}]),
        make_arm("constrained", {0: rows}, curves=CONSTRAINED),
    ]
    plot = PlotConfig("metric-series", monitor=["constraint/lambda", "constraint/cost"])
    paragraphs, figures = metric_series(plot, arms)
    assert paragraphs == [
        "constrained during training: constraint/lambda 0.00 → 0.25; constraint/cost 0.60 → 0.30."
    ]
    assert len(figures) == 1


def test_front_keeps_the_arms_no_other_beats_on_every_outcome(make_arm: ArmFactory) -> None:
    assert non_dominated([(0.1, 0.5), (0.2, 0.4), (0.3, 0.6)]) == [0, 1]

    def arm(name: str, trained: int, held: int) -> ArmResult:
        rows = harmful_rows([i < trained for i in range(10)])
        rows += harmful_rows([i < held for i in range(10)], held_out=True)
        return make_arm(name, {0: rows})

    arms = [arm("a", 1, 5), arm("b", 3, 2), arm("c", 4, 6)]
    plot = PlotConfig("safety-front", metrics=["harmful_compliance", "harmful_compliance_held_out"])
    paragraphs, figures = safety_front(plot, arms)
    assert "front (harmful (trained) down, harmful (held-out) down" in paragraphs[0]
    assert paragraphs[0].endswith(": a, b. Dominated: c.") and len(figures) == 1


def test_labels_per_point_of_harm_removed_from_the_reference(make_arm: ArmFactory) -> None:
    def labels(*spent: float) -> list[dict[str, float]]:
        return [{"step": i + 1, "learned/labels_used": v} for i, v in enumerate(spent)]

    static = [record | {"learned/agreement": 0.95} for record in labels(1000, 1000)]

    base = make_arm("base", {0: harmful_rows([True] * 16 + [False] * 4)})
    learned = make_arm("rm-1000", {0: harmful_rows([True] * 4 + [False] * 16)}, curves=static)
    adaptive = make_arm(
        "adaptive", {0: harmful_rows([True] * 15 + [False] * 5)}, curves=labels(500, 525, 550)
    )
    gold = make_arm("gold", {0: harmful_rows([False] * 20)}, curves=[{"step": 1}])
    assert learned.value("gold_labels") == 1000 and adaptive.value("gold_labels") == 550
    assert base.value("gold_labels") is None and gold.value("gold_labels") is None
    paragraphs, figures = label_efficiency(
        PlotConfig("label-efficiency", reference="base"), [base, learned, adaptive, gold]
    )
    assert len(paragraphs) == 3 and len(figures) == 1  # the gold arm spent no label budget
    assert paragraphs[1].startswith("rm-1000: 1,000 gold labels removed 60.0 points")
    assert "17 labels per point" in paragraphs[1]
    assert paragraphs[1].endswith(
        "agreed with gold on 95.0% of held-out world-written responses (not policy samples)."
    )
    assert paragraphs[2].startswith("adaptive: 550 gold labels; harmful (trained) removed 5.0")
    assert paragraphs[2].endswith("no detectable removal, no price.")


@pytest.mark.parametrize("kind", ["safety-front", "constraint-holds", "label-efficiency"])
def test_new_plot_kinds_are_registered(kind: str) -> None:
    from harmlab.experiments.figures import PLOT_KINDS

    assert callable(PLOT_KINDS.get(kind))
