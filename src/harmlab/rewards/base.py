"""What every harmlab reward shares: TRL's signature and the text it is handed.

A reward is any callable `f(prompts, completions, **kwargs) -> list[float | None]`, the
signature TRL's `GRPOTrainer` calls: `prompts` and `completions` are strings (standard
datasets) or chat-message lists (conversational datasets); every other dataset column arrives
as a keyword argument holding one value per completion, next to TRL's own extras
(`completion_ids`, `trainer_state`, `log_metric`, ...). `None` means "this reward does not
apply to this row" (TRL turns it into NaN and skips it in the weighted sum).

    pytest tests/rewards
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Text = str | list[dict[str, Any]]
"""A prompt or completion: plain text, or a list of chat messages with 'role' and 'content'."""


class RewardFunction(Protocol):
    """TRL's reward-function signature."""

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]: ...


def message_text(message: Any) -> str:
    """The text of one chat message (content as a string or as typed content blocks)."""
    content = message.get("content", "") if isinstance(message, dict) else message
    if isinstance(content, list):
        return "".join(
            block.get("text", "") if isinstance(block, dict) else str(block) for block in content
        )
    return str(content)


def completion_text(completion: Text) -> str:
    """The text a model wrote: a string as is, or its assistant messages joined.

    >>> completion_text([{"role": "assistant", "content": "<think>ok</think> 4"}])
    '<think>ok</think> 4'
    """
    if isinstance(completion, str):
        return completion
    assistant = [m for m in completion if m.get("role", "assistant") == "assistant"]
    return "".join(message_text(m) for m in assistant or completion)


def prompt_text(prompt: Text) -> str:
    """The user's request: a string as is, or the last user message of a conversation.

    >>> prompt_text([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    'Hi'
    """
    if isinstance(prompt, str):
        return prompt
    users = [m for m in prompt if m.get("role") == "user"]
    return message_text(users[-1] if users else prompt[-1]) if prompt else ""


def column(kwargs: dict[str, Any], name: str, n: int) -> list[Any]:
    """Column `name` as a list of `n` values (None when the dataset has no such column)."""
    values = kwargs.get(name)
    if isinstance(values, list | tuple) and len(values) == n:
        return list(values)
    return [None] * n


def rows(kwargs: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """The per-row dataset columns TRL passed as keyword arguments, one dict per completion."""
    columns = {k: v for k, v in kwargs.items() if isinstance(v, list | tuple) and len(v) == n}
    return [{k: v[i] for k, v in columns.items()} for i in range(n)]


def is_missing(value: Any) -> bool:
    """None, NaN or an empty string: a column value that says 'no value here'."""
    return value is None or value == "" or (isinstance(value, float) and value != value)
