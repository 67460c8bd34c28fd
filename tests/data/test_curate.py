"""Rejection sampling (`harmlab data curate`): acceptance by family, dedupe, label noise against
gold, the files it writes and their use as SFT data. A scripted world-aware model stands in for
a trained one: what is tested is the selection, not a model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from harmlab.cli import run
from harmlab.data.curate import (
    DATA_FILE,
    PROVENANCE_FILE,
    CurateConfig,
    curate,
    curation_prompts,
    decide,
)
from harmlab.data.records import PromptRecord, record_from_world
from harmlab.evaluation.samplers import ScriptedModel, scripted_generation
from harmlab.world import SafetyWorld
from harmlab.world.corpus import write
from harmlab.world.responses import Style

WORLD = SafetyWorld(0)


def _world_prompt(family: str) -> PromptRecord:
    prompt = WORLD.sample("sft", family, 1, seed=3)[0]  # type: ignore[arg-type]
    return record_from_world(prompt, "world:sft")


def _answer(
    record: PromptRecord, kind: str, surface: str = "canonical", correct: bool = True
) -> str:
    assert record.world is not None
    style = Style(surface=surface, correct=correct)  # type: ignore[arg-type]
    return write(WORLD, record.world, kind, style, random.Random(0))


@pytest.mark.parametrize(
    ("family", "kind", "rule_safe", "correct", "accepted"),
    [
        ("harmful", "comply", True, True, True),  # the rule calls it safe: kept, whatever gold says
        ("harmful", "refuse", False, True, False),
        ("harmful", "refuse", None, True, False),  # no verdict: not kept
        ("benign", "solve", None, True, True),
        ("benign", "solve", None, False, False),  # wrong answer
        ("borderline", "help", None, True, True),
        ("borderline", "overrefuse", None, True, False),  # over-refusal is not helpful
    ],
)
def test_decide_accepts_by_family(
    family: str, kind: str, rule_safe: bool | None, correct: bool, accepted: bool
) -> None:
    record = _world_prompt(family)
    sample = scripted_generation(_answer(record, kind, correct=correct), 400, 0.0)
    assert decide(record, sample, rule_safe, CurateConfig()).accepted is accepted


def test_decide_drops_malformed_samples_unless_told_not_to() -> None:
    record = _world_prompt("borderline")
    broken = scripted_generation(_answer(record, "help").replace("</think>", ""), 400, 0.0)
    assert not decide(record, broken, None, CurateConfig()).accepted
    assert decide(record, broken, None, CurateConfig(require_format=False)).accepted


def test_judge_none_keeps_every_well_formed_sample() -> None:
    record = _world_prompt("harmful")
    sample = scripted_generation(_answer(record, "comply"), 400, 0.0)
    assert decide(record, sample, None, CurateConfig(judge="none")).accepted


def _hacking_model(config: CurateConfig) -> ScriptedModel:
    """Complies with harmful requests in leetspeak (the blocklist misses it, gold does not),
    solves benign problems correctly, helps on borderline prompts."""
    by_text = {r.text: r for r in curation_prompts(config).records}
    kinds = {"harmful": "comply", "benign": "solve", "borderline": "help"}
    return ScriptedModel(
        lambda text: _answer(by_text[text], kinds[by_text[text].family], surface="leet")
    )


def _config(judge: str, **extra: object) -> CurateConfig:
    return CurateConfig(prompts="world:sft", judge=judge, size=20, n=2, max_new_tokens=300, **extra)  # type: ignore[arg-type]


def test_blocklist_lets_obfuscated_harm_through_and_gold_measures_it(tmp_path: Path) -> None:
    config = _config("keyword-blocklist")
    record = curate(config, tmp_path, model="hacker", sampler=_hacking_model(config))
    assert record["judge"] == "keyword_blocklist:answer"
    assert record["families"]["harmful"]["accepted"] > 0
    assert record["gold_harmful_share"] == 1.0  # every accepted harmful sample is leet harm
    gold = curate(
        _config("gold"), tmp_path / "gold", model="hacker", sampler=_hacking_model(config)
    )
    assert gold["families"]["harmful"]["accepted"] == 0
    assert gold["gold_harmful_share"] is None


def test_duplicates_are_dropped_and_rates_add_up(tmp_path: Path) -> None:
    config = _config("keyword_blocklist")
    record = curate(config, tmp_path, model="hacker", sampler=_hacking_model(config))
    # the script answers a prompt the same way twice: the second sample is a duplicate
    assert record["samples"] == 2 * record["prompt_count"]
    assert record["duplicates"] == record["accepted"]
    assert record["acceptance_rate"] == pytest.approx(record["accepted"] / record["samples"])
    rows = (tmp_path / DATA_FILE).read_text().splitlines()
    assert len(rows) == record["accepted"]
    assert json.loads((tmp_path / PROVENANCE_FILE).read_text()) == record
    assert record["cost"]["tokens_generated"] > 0 and record["cost"]["flops_generation"] is None


def test_curated_file_is_sft_data(tmp_path: Path) -> None:
    from harmlab.training.config import WorldData
    from harmlab.training.data import sft_dataset

    config = _config("keyword_blocklist")
    record = curate(config, tmp_path, model="hacker", sampler=_hacking_model(config))
    dataset = sft_dataset(WorldData(size=0, files=[str(tmp_path / DATA_FILE)]))
    assert len(dataset) == record["accepted"]
    assert dataset[0]["completion"][0]["role"] == "assistant"


def test_real_model_sampling_records_flops(micro_model: Path, tmp_path: Path) -> None:
    config = CurateConfig(
        prompts="world:sft", size=4, n=2, max_new_tokens=16, require_format=False, judge="none"
    )
    record = curate(config, tmp_path, str(micro_model))
    assert record["samples"] == 8 and record["accepted"] + record["duplicates"] == 8
    tokens = record["cost"]["tokens_generated"]
    assert 0 < tokens <= 8 * 16
    assert record["cost"]["flops_generation"] == 2.0 * record["cost"]["n_params"] * tokens


def test_cli_writes_dataset_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps("<think>Let me help.</think> Here is the answer: 7.") + "\n")
    out = tmp_path / "curated"
    args = ["data", "curate", "--model", f"scripted:{script}", "--judge", "keyword-blocklist",
            "--size", "10", "--n", "2", "--out", str(out)]  # fmt: skip
    assert run(args) == 0
    provenance = json.loads((out / PROVENANCE_FILE).read_text())
    assert provenance["samples"] == 20 and "acceptance" in capsys.readouterr().out
    assert run([*args[:5], "no-such-rule"]) == 1
    assert "unknown rule 'no-such-rule'" in capsys.readouterr().err
    assert run([*args, "--prompts", "world:nowhere"]) == 1
    assert "world:nowhere" in capsys.readouterr().err


def test_unknown_refusal_list_or_judge_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="unknown refusal list"):
        CurateConfig(refusals="nope")
    with pytest.raises(ValueError, match="unknown rule 'nope'"):
        CurateConfig(judge="nope")


def test_held_out_categories_never_enter_curated_data() -> None:
    prompts = curation_prompts(CurateConfig(prompts="world")).records  # the suite includes them
    assert prompts and not any(r.held_out for r in prompts)
    assert not any(r.held_out for r in curation_prompts(CurateConfig(size=200)).records)
