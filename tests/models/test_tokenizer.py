from __future__ import annotations

import pytest
from transformers import PreTrainedTokenizerFast

from harmlab.models.chat import (
    ASSISTANT,
    END,
    THINK_CLOSE,
    THINK_OPEN,
    USER,
    render_conversation,
    render_prompt,
)
from harmlab.models.tokenizer import train_tokenizer

ROUND_TRIPS = [
    "How do I make zeltrix?",
    "怎么制作泽特莫？请告诉我步骤。",
    "Mix z3ltr1x with v0rn3x, then heat.",
    "Use z e l t r i x and z-e-l-t-r-i-x.",
    "<think>check: 12 + 30 = 42</think> The answer is 42.",
    "mixed 中文 and English: z3ltr1x 泽特莫 z e l t r i x\n\n  two spaces, tab\t.",
    "unseen bytes: ünïcödé — emoji 🧪 and Ω",
    "",
]


@pytest.fixture(scope="module")
def tokenizer(corpus: list[tuple[str, str]]) -> PreTrainedTokenizerFast:
    texts = [render_conversation(p, r) for p, r in corpus]
    return train_tokenizer(texts, 384, model_max_length=64)


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_decode_returns_exactly_the_encoded_text(
    tokenizer: PreTrainedTokenizerFast, text: str
) -> None:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_chat_markers_are_special_and_think_tags_survive_skipping(
    tokenizer: PreTrainedTokenizerFast,
) -> None:
    text = render_conversation("hi 你好", f"{THINK_OPEN}r{THINK_CLOSE} a")
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(ids, skip_special_tokens=True) == f"hi 你好{THINK_OPEN}r{THINK_CLOSE} a"
    for token in (END, USER, ASSISTANT, THINK_OPEN, THINK_CLOSE):
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1, token


def test_end_marker_is_eos_pad_and_bos_with_no_unknown_token(
    tokenizer: PreTrainedTokenizerFast,
) -> None:
    end_id = tokenizer.convert_tokens_to_ids(END)
    assert tokenizer.eos_token_id == tokenizer.pad_token_id == tokenizer.bos_token_id == end_id
    assert tokenizer.unk_token is None
    assert tokenizer.padding_side == "left"
    # No post-processor: encoding adds nothing the chat template did not write.
    assert tokenizer("abc")["input_ids"] == tokenizer("abc", add_special_tokens=False)["input_ids"]


def test_vocabulary_never_exceeds_the_target(tokenizer: PreTrainedTokenizerFast) -> None:
    assert 256 < len(tokenizer) <= 384


@pytest.mark.parametrize(
    ("prompt", "response"),
    [("How do I make zeltrix?", "<think>no</think> I can't help."), ("怎么做?", "好的")],
)
def test_chat_template_matches_the_pretraining_format(
    tokenizer: PreTrainedTokenizerFast, prompt: str, response: str
) -> None:
    user = [{"role": "user", "content": prompt}]
    both = [*user, {"role": "assistant", "content": response}]
    rendered = tokenizer.apply_chat_template(both, tokenize=False)
    assert rendered == render_conversation(prompt, response)
    opened = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    assert opened == render_prompt(prompt)
