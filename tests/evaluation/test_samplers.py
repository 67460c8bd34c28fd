"""The scripted model: completions from a script, cut at the token budget, counted honestly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmlab import HarmlabError
from harmlab.evaluation.generation import SamplingConfig
from harmlab.evaluation.samplers import (
    ModelSampler,
    ScriptedModel,
    sampler_for,
    script_tokens,
    scripted_generation,
)

SAMPLING = SamplingConfig(max_new_tokens=64)


def _script(tmp_path: Path, entries: list[object]) -> Path:
    path = tmp_path / "script.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n")
    return path


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Sure.", ["Sure", "."]),
        ("<think>a b</think>c", ["<think>", "a", "b", "</think>", "c"]),
        ("答案是12。", ["答", "案", "是", "12", "。"]),
        ("kill -9 <PID>", ["kill", "-", "9", "<", "PID", ">"]),
        ("", []),
    ],
)
def test_script_tokens(text: str, tokens: list[str]) -> None:
    assert [m.group() for m in script_tokens(text)] == tokens


def test_a_finished_completion_counts_its_end_of_sequence_token() -> None:
    generation = scripted_generation("<think>two plus two</think> It is 4.", 64, 0.5)
    assert generation.think == "two plus two" and generation.answer == "It is 4."
    assert generation.completion_tokens == 9 + 1  # 9 tokens, then end of sequence
    assert generation.think_tokens == 3
    assert generation.format_problems == () and generation.seconds == 0.5


def test_a_long_completion_is_cut_at_the_budget_like_a_real_one() -> None:
    generation = scripted_generation("<think>one two three four</think> done", 3, 0.0)
    assert generation.text == "<think>one two"
    assert generation.completion_tokens == 3
    assert generation.think_tokens == 2
    assert "missing </think>" in generation.format_problems


def test_cycling_hands_out_completions_in_turn() -> None:
    model = ScriptedModel.cycling(["A.", "B."])
    first = model(["p", "q", "r"], SAMPLING, seed=0)
    assert [g.text for g in first] == ["A.", "B.", "A."]
    assert [g.text for g in model(["p"], SAMPLING, seed=0)] == ["B."]


def test_a_function_of_the_prompt() -> None:
    model = ScriptedModel(lambda prompt: f"You said {prompt}")
    assert [g.answer for g in model(["hi", "yo"], SAMPLING, 0)] == ["You said hi", "You said yo"]


def test_script_file_answers_exact_prompts_first(tmp_path: Path) -> None:
    path = _script(tmp_path, [{"prompt": "2+2?", "completion": "4"}, "I can't help.", "Ok."])
    model = sampler_for(f"scripted:{path}")
    texts = [g.text for g in model(["x", "2+2?", "y", "z"], SAMPLING, 0)]
    assert texts == ["I can't help.", "4", "Ok.", "I can't help."]


def test_script_without_a_completion_for_a_prompt(tmp_path: Path) -> None:
    model = ScriptedModel.from_file(_script(tmp_path, [{"prompt": "a", "completion": "b"}]))
    with pytest.raises(HarmlabError, match="no completion for the prompt 'other'"):
        model(["other"], SAMPLING, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('"ok"\n{"completion": 3}\n', "script.jsonl:line 2: expected a JSON string"),
        ('{"completion": "x"}\n', "line 1: an object needs a string 'prompt'"),
        ("not json\n", "line 1: invalid JSON"),
        ("\n", "needs at least one completion"),
    ],
)
def test_bad_scripts_are_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "script.jsonl"
    path.write_text(content)
    with pytest.raises(HarmlabError, match=message):
        ScriptedModel.from_file(path)


def test_missing_script_file(tmp_path: Path) -> None:
    with pytest.raises(HarmlabError, match="no such file"):
        sampler_for(f"scripted:{tmp_path / 'absent.jsonl'}")


def test_sampler_for_passes_given_models_through() -> None:
    scripted = ScriptedModel.cycling(["x"])
    assert sampler_for("anything", scripted) is scripted
    wrapped = sampler_for("anything", model="a model", tokenizer="a tokenizer")
    assert wrapped == ModelSampler("a model", "a tokenizer")
