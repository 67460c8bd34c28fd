"""Token counting of generated spans (`harmlab.evaluation.generation`)."""

from __future__ import annotations

from pathlib import Path

from harmlab.evaluation.generation import SamplingConfig, generate_rows, span_tokens
from harmlab.models.resolve import load_model


def test_span_tokens_counts_the_generated_ids_of_a_span(micro_model: Path) -> None:
    _, tokenizer = load_model(str(micro_model))
    head = tokenizer("<think>", add_special_tokens=False)["input_ids"]
    think = tokenizer(" add 3 then 4", add_special_tokens=False)["input_ids"]
    tail = tokenizer("</think> 7", add_special_tokens=False)["input_ids"]
    ids = head + think + tail
    text = tokenizer.decode(ids, skip_special_tokens=True)
    assert span_tokens(tokenizer, ids, text, " add 3 then 4") == len(think)
    assert span_tokens(tokenizer, ids, text, "") == 0
    assert span_tokens(tokenizer, ids, text, "not in the text") == 0


def test_think_tokens_never_exceed_the_completion(micro_model: Path) -> None:
    """A completion cut inside a multi-byte character used to re-encode to more tokens."""
    model, tokenizer = load_model(str(micro_model))
    prompts = ["请问怎么做？", "How do I make zivan?", "Tom has 3 coins."] * 4
    rows = generate_rows(model, tokenizer, prompts, SamplingConfig(max_new_tokens=16), seed=3)
    assert all(0 <= row.think_tokens <= row.completion_tokens for row in rows)
    assert any(row.think_tokens > 0 for row in rows)
