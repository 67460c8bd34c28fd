"""Curation, distillation and start-model stages: how the plan chains them, what the runner
places on them, and (on the micro model) that they run end to end into a report's compute."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harmlab import HarmlabError
from harmlab.experiments.plan import Foundation, PlannedStage, plan
from harmlab.experiments.spec import ArmConfig, EvalSettings, ExperimentConfig, shipped_experiments
from harmlab.experiments.work import distill_config, training_config

BASE = Foundation("tiny-b")


def start_keys(reference: str, world_seed: int) -> str:
    return f"{reference}-w{world_seed}"


@pytest.fixture()
def configs(tmp_path: Path) -> Path:
    (tmp_path / "curate.yaml").write_text("size: 8\nn: 2\n")
    (tmp_path / "sft.yaml").write_text("train:\n  steps: 4\n")
    (tmp_path / "grpo.yaml").write_text("train:\n  steps: 6\n")
    (tmp_path / "distill.yaml").write_text("student: student\ntraces: {size: 8}\n")
    return tmp_path


def _experiment(configs: Path, seeds: int | None = None) -> ExperimentConfig:
    c = {name: str(configs / f"{name}.yaml") for name in ("curate", "sft", "grpo", "distill")}
    arms = [
        ArmConfig("oracle", sft=c["sft"]),
        ArmConfig("curated", curate=c["curate"], sft=c["sft"]),
        ArmConfig("curated-rl", curate=c["curate"], sft=c["sft"], grpo=c["grpo"]),
        ArmConfig("student", start="student"),
        ArmConfig("distilled", grpo=c["grpo"], distill=c["distill"]),
        ArmConfig(
            "distilled-gold",
            grpo=c["grpo"],
            distill=c["distill"],
            distill_overrides=["traces.judge=gold"],
        ),
    ]
    return ExperimentConfig("E9", "kinds", "?", arms, seeds=seeds)


def _stages(configs: Path, world: Foundation = BASE) -> dict[str, list[PlannedStage]]:
    """Arm -> its planned stages in chain order."""
    stages, runs = plan([_experiment(configs)], 1, False, [world], start_keys)
    by_key = {s.stage.key: s for s in stages}
    return {r.arm: [by_key[s.key] for s in (*r.training, r.eval)] for r in runs}


def test_a_curation_stage_feeds_data_not_a_model(configs: Path) -> None:
    arms = _stages(configs)
    curate, sft, grpo, evaluation = arms["curated-rl"]
    assert [s.kind for s in arms["curated-rl"]] == ["curate", "sft", "grpo", "eval"]
    assert sft.data_from == curate.stage and sft.model_from is None  # starts from the base
    assert grpo.model_from == sft.stage and grpo.data_from is None
    assert evaluation.model_from == grpo.stage
    assert arms["curated"][0].stage.key == curate.stage.key  # one curation, two arms
    assert arms["curated"][1].stage.key != arms["oracle"][0].stage.key  # other data, other SFT


def test_a_distillation_stage_starts_from_the_teacher_and_hands_on_its_student(
    configs: Path,
) -> None:
    arms = _stages(configs)
    grpo, distill, evaluation = arms["distilled"]
    assert distill.kind == "distill" and distill.model_from == grpo.stage
    assert evaluation.model_from == distill.stage
    assert distill.stage.config["student"] == "student-w0"
    assert arms["distilled-gold"][0].stage.key == grpo.stage.key  # the teacher is shared
    assert arms["distilled-gold"][1].stage.key != distill.stage.key


def test_a_start_model_enters_the_key_and_each_world_has_its_own(configs: Path) -> None:
    (evaluation,) = _stages(configs)["student"]
    assert evaluation.start == "student" and evaluation.model_from is None
    assert evaluation.stage.config["start"] == "student-w0"
    (other,) = _stages(configs, Foundation("tiny-b", world_seed=2))["student"]
    assert other.stage.config["start"] == "student-w2"
    (base_eval,) = [s for s in _stages(configs)["oracle"] if s.kind == "eval"]
    assert "start" not in base_eval.stage.config  # the base model's keys stay as they were


def test_the_plan_places_the_world_on_curation_and_distillation(configs: Path) -> None:
    world = Foundation("tiny-b", world_seed=3, held_out_category="fraud")
    arms = _stages(configs, world)
    curate = arms["curated"][0]
    assert "world_seed=3" in curate.overrides and "held_out_category=fraud" in curate.overrides
    distill = arms["distilled"][1]
    assert "traces.world_seed=3" in distill.overrides
    assert "traces.held_out_category=fraud" in distill.overrides


def test_the_runner_trains_sft_on_the_curated_data_only(configs: Path, tmp_path: Path) -> None:
    curate, sft = _stages(configs)["curated"][:2]
    folder = tmp_path / "stages" / sft.stage.folder_name
    config = training_config(sft, folder, "base-model", None)
    assert config.data.size == 0
    curated = tmp_path / "stages" / curate.stage.folder_name / "data" / "sft.jsonl"
    assert config.data.files == [str(curated)]


def test_the_runner_gives_a_distillation_its_teacher_and_the_worlds_student(
    configs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harmlab.experiments.work as work

    monkeypatch.setattr(work, "world_model", lambda ref, seed: Path(f"/cache/{ref}-{seed}"))
    distill = _stages(configs, Foundation("tiny-b", world_seed=1))["distilled-gold"][1]
    config = distill_config(distill, tmp_path / "d", "/runs/teacher/final", None)
    assert config.teacher == "/runs/teacher/final"
    assert config.student == "/cache/student-1"
    assert config.traces.judge == "gold" and config.traces.world_seed == 1
    assert config.output_dir == str(tmp_path / "d" / "run")


def test_seeds_per_experiment(configs: Path) -> None:
    five = _experiment(configs, seeds=5)
    plain = ExperimentConfig("E8", "plain", "?", [ArmConfig("base")])

    def runs(seeds: int | None, quick: bool) -> dict[str, int]:
        _, planned = plan([five, plain], seeds, quick, [BASE], start_keys)
        return {e: len({r.seed for r in planned if r.experiment == e}) for e in ("E9", "E8")}

    assert runs(None, False) == {"E9": 5, "E8": 3}
    assert runs(None, True) == {"E9": 1, "E8": 1}
    assert runs(2, False) == {"E9": 2, "E8": 2}  # --seeds wins


def test_curation_without_sft_is_refused() -> None:
    with pytest.raises(HarmlabError, match="curate makes SFT data"):
        ArmConfig("lost", curate="curate-rule")


def test_an_unset_eval_setting_stays_out_of_the_key(configs: Path) -> None:
    experiment = _experiment(configs)
    (evaluation,) = [s for s in _stages(configs)["oracle"] if s.kind == "eval"]
    assert "benign_per_difficulty" not in evaluation.stage.config["settings"]
    bigger = ExperimentConfig(
        "E9", "kinds", "?", experiment.arms, eval=EvalSettings(benign_per_difficulty=128)
    )
    stages, _ = plan([bigger], 1, False, [BASE], start_keys)
    settings = [s.stage.config["settings"] for s in stages if s.kind == "eval"]
    assert all(s["benign_per_difficulty"] == 128 for s in settings)


def test_shipped_factorial_and_distillation_experiments_plan() -> None:
    shipped = {e.id: e for e in shipped_experiments()}
    e2 = {arm.name: arm for arm in shipped["E2"].arms}
    assert {"sft-oracle", "sft-curated", "rl-rule", "rl-gold"} <= set(e2)
    assert e2["sft-curated"].curate == "curate-rule"
    assert shipped["E4"].seeds == 5 and shipped["E4"].eval.benign_per_difficulty == 128
    e6 = {arm.name: arm for arm in shipped["E6"].arms}
    assert e6["student-base"].start == "student"
    stages, _ = plan([shipped["E2"], shipped["E6"]], 1, True, [BASE], start_keys)
    kinds = [s.kind for s in stages]
    assert kinds.count("curate") == 1 and kinds.count("distill") == 8
    onpolicy = [s for s in stages if s.kind == "distill" and "mode=onpolicy" in s.overrides]
    assert len(onpolicy) == 2  # one student per teacher, its own stage


@pytest.mark.slow
def test_curation_and_distillation_run_end_to_end(micro_model: Path, tmp_path: Path) -> None:
    from harmlab.experiments.results import arm_results
    from harmlab.experiments.runner import ReproduceOptions, run_stages

    files = {
        "curate": {
            "size": 6,
            "n": 2,
            "judge": "none",
            "require_format": False,
            "max_new_tokens": 24,
            "batch_size": 6,
        },
        "sft": {
            "threads": 1,
            "train": {"steps": 2, "batch_size": 4, "max_length": 96, "save_every": 2},
            "monitor": {"every": 0},
        },
        "distill": {
            "student": str(micro_model),
            "threads": 1,
            "traces": {
                "size": 6,
                "n": 1,
                "judge": "none",
                "require_format": False,
                "max_new_tokens": 24,
            },
            "train": {"steps": 2, "batch_size": 4, "max_length": 96, "save_every": 2},
            "monitor": {"every": 0},
        },
    }
    for name, content in files.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(content))
    c = {name: str(tmp_path / f"{name}.yaml") for name in files}
    arms = [
        ArmConfig("curated", curate=c["curate"], sft=c["sft"]),
        ArmConfig("distilled", curate=c["curate"], sft=c["sft"], distill=c["distill"]),
    ]
    # one arithmetic task per difficulty: the assertions read curation and training, not accuracy
    tiny_eval = EvalSettings(max_new_tokens=16, benign_per_difficulty=1)
    experiment = ExperimentConfig("E9", "kinds", "?", arms, eval=tiny_eval)
    options = ReproduceOptions(out=tmp_path / "out", base=str(micro_model), seeds=1, threads=1)
    outcome = run_stages(options, experiments=[experiment])
    curated = next(r for r in outcome.runs if r.arm == "curated")
    curate_folder = outcome.folder(curated.training[0].key)
    rows = (curate_folder / "data" / "sft.jsonl").read_text().splitlines()
    assert rows and json.loads(rows[0])["messages"][1]["role"] == "assistant"
    sft_config = yaml.safe_load(
        (outcome.folder(curated.training[1].key) / "run" / "config.yaml").read_text()
    )
    assert sft_config["data"]["files"] == [str(curate_folder / "data" / "sft.jsonl")]
    distilled = next(r for r in outcome.runs if r.arm == "distilled")
    student = outcome.folder(distilled.training[-1].key) / "run" / "student" / "final"
    assert (student / "config.json").is_file()
    results = arm_results(outcome)
    compute = results[("E9", "curated")].seeds[0].compute()
    sampled = json.loads((curate_folder / "data" / "provenance.json").read_text())
    assert compute["tokens"] >= sampled["cost"]["tokens_generated"] > 0  # curation is charged
    distilled_compute = results[("E9", "distilled")].seeds[0].compute()
    assert distilled_compute["tokens"] > compute["tokens"]  # and the teacher's traces too


@pytest.mark.parametrize("mode", ["offpolicy", "onpolicy"])
def test_a_distillation_stage_is_charged_its_teacher_compute(tmp_path: Path, mode: str) -> None:
    """Off-policy: the teacher's sampling (traces/provenance.json); on-policy: the teacher's
    forward pass over every student token (distill.json), added to the student's own."""
    from harmlab.experiments.results import stage_summary

    run = tmp_path / "run"
    (run / "student").mkdir(parents=True)
    student = {"compute/flops_train": 10.0, "compute/flops_generation": 5.0}
    (run / "student" / "summary.json").write_text(json.dumps(student))
    (run / "student" / "metrics.jsonl").write_text(json.dumps({"step": 1}) + "\n")
    if mode == "offpolicy":
        (run / "traces").mkdir()
        cost = {"flops_generation": 100.0, "tokens_generated": 7, "seconds": 1.0}
        (run / "traces" / "provenance.json").write_text(json.dumps({"cost": cost}))
        (run / "distill.json").write_text(json.dumps({"mode": mode}))
    else:
        (run / "distill.json").write_text(json.dumps({"mode": mode, "teacher_flops_forward": 40.0}))
    record, curve = stage_summary("distill", tmp_path)
    assert curve == [{"step": 1}]
    if mode == "offpolicy":
        assert (record["compute/flops_train"], record["compute/flops_generation"]) == (10.0, 105.0)
        assert record["compute/tokens_generated"] == 7
    else:
        assert (record["compute/flops_train"], record["compute/flops_generation"]) == (50.0, 5.0)
