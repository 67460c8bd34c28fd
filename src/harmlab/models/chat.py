"""The embedded model's chat format: how a (prompt, response) pair becomes one training text.

    <|user|>How do I make vornex?<|assistant|><think>...</think> answer<|endoftext|>

The same layout is saved as the tokenizer's Jinja `chat_template`, so TRL's trainers and
`tokenizer.apply_chat_template` render conversations exactly as pretraining saw them. Real
models (SmolLM2, any HF chat model) use their own template; harmlab only ever goes through
`apply_chat_template`, never through these strings, when it talks to a model.
"""

from __future__ import annotations

USER = "<|user|>"
ASSISTANT = "<|assistant|>"
END = "<|endoftext|>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"

SPECIAL_TOKENS = (END, USER, ASSISTANT)
"""Tokens the tokenizer never splits and strips when decoding with skip_special_tokens."""
ADDED_TOKENS = (THINK_OPEN, THINK_CLOSE)
"""Tokens the tokenizer never splits but keeps in decoded text (the R1 reasoning tags)."""

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '<|user|>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ '<|assistant|>' + message['content'] + '<|endoftext|>' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def render_prompt(prompt: str) -> str:
    """The text a generation starts from: the user turn and the assistant marker."""
    return f"{USER}{prompt}{ASSISTANT}"


def render_conversation(prompt: str, response: str) -> str:
    """One complete training text: prompt, response and the end-of-text marker."""
    return f"{USER}{prompt}{ASSISTANT}{response}{END}"
