"""Planning: shared stages run once, every change upstream makes new stages (base model and world
included), quick is a variant, and the plan's world seed and rule reach the training configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmlab import HarmlabError
from harmlab.experiments.plan import Foundation, plan
from harmlab.experiments.spec import ArmConfig, ExperimentConfig, load_experiment, select
from harmlab.experiments.work import training_config
from harmlab.training.config import GRPORunConfig, SFTRunConfig

BASE = Foundation("tiny-b")


@pytest.fixture()
def configs(tmp_path: Path) -> Path:
    (tmp_path / "sft.yaml").write_text("train:\n  max_steps: 40\n")
    (tmp_path / "grpo.yaml").write_text("train:\n  max_steps: 60\n")
    return tmp_path


def _e2(configs: Path) -> ExperimentConfig:
    sft, grpo = str(configs / "sft.yaml"), str(configs / "grpo.yaml")
    arms = [
        ArmConfig("base"),
        ArmConfig("sft", sft=sft),
        ArmConfig("rl", grpo=grpo),
        ArmConfig("hybrid", sft=sft, grpo=grpo),
    ]
    return ExperimentConfig("E2", "generalization", "?", arms)


def _e4(configs: Path) -> ExperimentConfig:
    sft, grpo = str(configs / "sft.yaml"), str(configs / "grpo.yaml")
    arms = [
        ArmConfig("hybrid", sft=sft, grpo=grpo),
        ArmConfig("hybrid+lang", sft=sft, grpo=grpo, grpo_overrides=["rewards.0.weight=1"]),
    ]
    return ExperimentConfig("E4", "language", "?", arms)


def test_shared_stages_are_planned_once_and_in_dependency_order(configs: Path) -> None:
    stages, runs = plan([_e2(configs), _e4(configs)], seeds=1, quick=False, foundations=[BASE])
    kinds = [s.kind for s in stages]
    # one SFT, two GRPO (from base, after SFT), one more GRPO for +lang, one eval per distinct arm
    assert kinds.count("sft") == 1 and kinds.count("grpo") == 3 and kinds.count("eval") == 5
    position = {s.stage.key: i for i, s in enumerate(stages)}
    for item in stages:
        assert all(position[up.key] < position[item.stage.key] for up in item.stage.inputs)
    hybrid_e2 = next(r for r in runs if r.experiment == "E2" and r.arm == "hybrid")
    hybrid_e4 = next(r for r in runs if r.experiment == "E4" and r.arm == "hybrid")
    assert hybrid_e2.eval.key == hybrid_e4.eval.key
    assert [s.name for s in hybrid_e2.training] == ["sft", "grpo"]


def test_seeds_multiply_stages_and_quick_mode_changes_trained_arms(configs: Path) -> None:
    experiment = _e2(configs)
    experiment.quick.grpo_overrides.append("train.steps=5")
    one, _ = plan([experiment], seeds=1, quick=False, foundations=[BASE])
    three, runs = plan([experiment], seeds=3, quick=False, foundations=[BASE])
    quick, _ = plan([experiment], seeds=1, quick=True, foundations=[BASE])
    assert len(three) == 3 * len(one) and len(runs) == 12
    changed = {s.stage.key for s in one} - {s.stage.key for s in quick}
    # the GRPO stages and the evals downstream of them; base and SFT-only arms are shared
    assert len(changed) == 4


def test_editing_a_config_file_invalidates_its_stages(configs: Path) -> None:
    before, _ = plan([_e2(configs)], seeds=1, quick=False, foundations=[BASE])
    (configs / "grpo.yaml").write_text("train:\n  max_steps: 61\n")
    after, _ = plan([_e2(configs)], seeds=1, quick=False, foundations=[BASE])
    changed = {s.stage.key for s in before} ^ {s.stage.key for s in after}
    assert {s.kind for s in before if s.stage.key in changed} == {"grpo", "eval"}


@pytest.mark.parametrize(
    "changed",
    [Foundation("tiny-c"), Foundation("tiny-b", world_seed=1), Foundation("tiny-b", 0, "9.9")],
    ids=["base model", "world seed", "world version"],
)
def test_another_base_model_or_world_reruns_every_stage(configs: Path, changed: Foundation) -> None:
    before, _ = plan([_e2(configs)], seeds=1, quick=False, foundations=[BASE])
    after, _ = plan([_e2(configs)], seeds=1, quick=False, foundations=[changed])
    assert [s.kind for s in before] == [s.kind for s in after]
    # training stages too, not only evaluations: none of them may be reused
    assert not {s.stage.key for s in before} & {s.stage.key for s in after}
    assert {s.kind for s in after} == {"sft", "grpo", "eval"}


def test_the_world_seed_and_the_rule_reach_the_training_configs(tmp_path: Path) -> None:
    arms = [ArmConfig("hybrid", sft="sft-cold-start", grpo="grpo-after-sft")]
    experiment = ExperimentConfig("E9", "t", "q", arms, rule="keyword_blocklist:answer")
    stages, _ = plan([experiment], seeds=1, quick=False, foundations=[Foundation("b", 3)])
    sft, grpo, evaluation = stages
    sft_config = training_config(sft, tmp_path / "sft", "base-folder", threads=None)
    grpo_config = training_config(grpo, tmp_path / "grpo", "sft-folder/final", threads=None)
    assert isinstance(sft_config, SFTRunConfig) and isinstance(grpo_config, GRPORunConfig)
    assert sft_config.data.world_seed == 3 and grpo_config.prompts.world_seed == 3
    assert grpo_config.monitor.rule == "keyword_blocklist:answer"
    assert grpo_config.model == "sft-folder/final"  # the plan chains, not the config
    assert evaluation.stage.config["rule"] == "keyword_blocklist:answer"
    assert evaluation.stage.config["world"]["seed"] == 3
    other_rule = ExperimentConfig("E9", "t", "q", arms, rule="keyword_blocklist:completion")
    again, _ = plan([other_rule], seeds=1, quick=False, foundations=[Foundation("b", 3)])
    # the rule is the GRPO monitor's and the evaluation's, not the SFT stage's
    same = [a.stage.key == b.stage.key for a, b in zip(stages, again, strict=True)]
    assert same == [True, False, False]


def test_each_world_has_its_own_stages_and_its_configs_receive_it(tmp_path: Path) -> None:
    arms = [ArmConfig("base"), ArmConfig("hybrid", sft="sft-cold-start", grpo="grpo-after-sft")]
    experiment = ExperimentConfig("E9", "t", "q", arms)
    worlds = [
        Foundation("b0", 0),
        Foundation("b0", 0, held_out_category="fraud"),
        Foundation("b1", 1, held_out_category="fraud"),
    ]
    stages, runs = plan([experiment], seeds=2, quick=False, foundations=worlds)
    one, _ = plan([experiment], seeds=2, quick=False, foundations=worlds[:1])
    assert len(stages) == 3 * len(one) and len(runs) == 3 * 2 * 2
    assert [r.world.label for r in runs[::4]] == [
        "world 0",
        "world 0 · held out fraud",
        "world 1 · held out fraud",
    ]
    for world in worlds:  # no stage is shared between worlds
        mine = {s.stage.key for s in stages if s.world == world}
        others = {s.stage.key for s in stages if s.world != world}
        assert len(mine) == len(one) and not mine & others
    sft = next(s for s in stages if s.kind == "sft" and s.world == worlds[2])
    grpo = next(s for s in stages if s.kind == "grpo" and s.world == worlds[2])
    evaluation = next(s for s in stages if s.kind == "eval" and s.world == worlds[2])
    sft_config = training_config(sft, tmp_path / "sft", "base-folder", threads=None)
    grpo_config = training_config(grpo, tmp_path / "grpo", "sft-folder/final", threads=None)
    assert isinstance(sft_config, SFTRunConfig) and isinstance(grpo_config, GRPORunConfig)
    assert (sft_config.data.world_seed, sft_config.data.held_out_category) == (1, "fraud")
    assert (grpo_config.prompts.world_seed, grpo_config.prompts.held_out_category) == (1, "fraud")
    assert evaluation.stage.config["world"] == {
        "version": worlds[0].world_version,
        "seed": 1,
        "held_out_category": "fraud",
    }
    # naming the default category changes nothing: the stages of an unnamed run are reused
    default = Foundation("b0", 0, held_out_category="pathogens")
    same, _ = plan([experiment], seeds=2, quick=False, foundations=[default])
    assert [s.stage.key for s in same] == [s.stage.key for s in one]
    with pytest.raises(HarmlabError, match="at least one world"):
        plan([experiment], seeds=1, quick=False, foundations=[])


def test_an_arms_own_rule_replaces_the_experiments(tmp_path: Path) -> None:
    arms = [
        ArmConfig("base"),
        ArmConfig("base-refusal", rule="refusal_phrase:answer"),
        ArmConfig("rl", grpo="grpo-from-base", rule="refusal_phrase:answer"),
    ]
    experiment = ExperimentConfig("E9", "t", "q", arms, rule="keyword_blocklist:answer")
    stages, _ = plan([experiment], seeds=1, quick=False, foundations=[BASE])
    base, base_refusal, grpo, rl_eval = stages
    assert base.stage.config["rule"] == "keyword_blocklist:answer"
    assert base_refusal.stage.config["rule"] == rl_eval.stage.config["rule"]
    assert rl_eval.stage.config["rule"] == "refusal_phrase:answer"
    config = training_config(grpo, tmp_path / "grpo", "base-folder", threads=None)
    assert isinstance(config, GRPORunConfig) and config.monitor.rule == "refusal_phrase:answer"
    with pytest.raises(HarmlabError, match="experiment E9: arms.0.rule: "):
        ExperimentConfig("E9", "t", "q", [ArmConfig("base", rule="no_such_rule")])


def test_experiment_yaml_is_validated_and_selected_by_id(tmp_path: Path) -> None:
    path = tmp_path / "e9.yaml"
    path.write_text("id: E9\ntitle: t\nquestion: q\narms:\n  - name: base\n    sft_steps: 3\n")
    with pytest.raises(HarmlabError, match="unknown key 'arms.0.sft_steps'; valid keys"):
        load_experiment(path)
    path.write_text("id: E9\ntitle: t\nquestion: q\narms:\n  - name: base\n")
    experiment = load_experiment(path)
    assert select([experiment], "e9") == [experiment]
    with pytest.raises(HarmlabError, match="unknown experiment E7; known: E9"):
        select([experiment], "E9,E7")


def test_a_missing_training_config_is_a_clear_error(configs: Path) -> None:
    experiment = ExperimentConfig("E1", "t", "q", [ArmConfig("rl", grpo="no-such-config")])
    with pytest.raises(HarmlabError, match="'no-such-config' is neither a file nor a shipped"):
        plan([experiment], seeds=1, quick=False, foundations=[BASE])
