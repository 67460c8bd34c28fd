from __future__ import annotations

import pytest

from harmlab.reasoning_format import split_response


@pytest.mark.parametrize(
    ("text", "think", "answer", "valid"),
    [
        ("<think>r</think> a", "r", "a", True),
        ("  <think> r </think>\n a ", "r", "a", True),
        ("r</think> a", "r", "a", False),
        ("<think>r", "r", "", False),
        ("a", "", "a", False),
        ("x<think>r</think> a", "r", "a", False),
        ("<think>r</think> a </think> b", "r", "a  b", False),
    ],
)
def test_split_response(text: str, think: str, answer: str, valid: bool) -> None:
    parsed = split_response(text)
    assert (parsed.think, parsed.answer, parsed.valid) == (think, answer, valid)
