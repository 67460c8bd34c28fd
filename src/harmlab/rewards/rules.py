"""Rule rewards on form and content: format, accuracy, helpfulness proxy, length, overlong.

    harmlab train grpo --config configs/grpo-from-base.yaml     # rewards named in `rewards:`

DeepSeek-R1 (arXiv 2501.12948, section 2.2.2) trains with two rule rewards, *format* (the
reasoning sits between think tags) and *accuracy* (the verifiable answer is right); this module
has both, plus the shaping terms later work added: DAPO's soft overlong punishment (arXiv
2503.14476, eq. 13), a reasoning-length penalty, and a helpfulness proxy that pays for detail.
The proxy is deliberately naive (it counts numbered or sequenced clauses and words, as a
rule designer might): like the keyword blocklist, it is something a policy can game.

Departures: R1's accuracy reward also checks that the answer sits in a specified box; here
the answer span after `</think>` plays that role and its last number is the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from harmlab.reasoning_format import split_response
from harmlab.rewards.base import Text, column, completion_text, is_missing
from harmlab.world.language import word_languages

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def format_reward(
    prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
) -> list[float | None]:
    """1.0 for `<think>reasoning</think> answer` with nothing missing or repeated, else 0.0.

    >>> format_reward(["q", "q"], ["<think>2 + 2 = 4.</think> 4", "4"])
    [1.0, 0.0]
    """
    return [1.0 if split_response(completion_text(c)).valid else 0.0 for c in completions]


def final_number(text: str) -> float | None:
    """The last number written in `text` (integers and decimals), or None."""
    found = _NUMBER.findall(text.replace(",", ""))
    return float(found[-1]) if found else None


def answer_matches(answer_span: str, expected: Any) -> bool:
    """Numeric answers compare by the span's last number; others by normalised text."""
    try:
        target = float(str(expected).replace(",", ""))
    except ValueError:
        return answer_span.strip().lower().rstrip(".") == str(expected).strip().lower()
    predicted = final_number(answer_span)
    return predicted is not None and abs(predicted - target) < 1e-9


def accuracy_reward(
    prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
) -> list[float | None]:
    """1.0 when the answer span gives the `answer` column's value, 0.0 when not, None without one.

    >>> accuracy_reward(["q", "q", "q"], ["<think>3+4=7</think> 7.", "<think>..</think> 8",
    ...                 "<think>no</think> I can't help."], answer=[7, 7, None])
    [1.0, 0.0, None]
    """
    answers = column(kwargs, "answer", len(completions))
    out: list[float | None] = []
    for completion, expected in zip(completions, answers, strict=True):
        if is_missing(expected):
            out.append(None)
            continue
        answer_span = split_response(completion_text(completion)).answer
        out.append(1.0 if answer_matches(answer_span, expected) else 0.0)
    return out


class ConfigurableReward:
    """Base of rewards with settings: a frozen dataclass whose fields are its YAML `params`.

    TRL names a reward by its `__name__`; for these it is the registry name, so logs read
    `rewards/keyword_blocklist/mean` whatever the settings.
    """

    name: ClassVar[str] = ""

    @property
    def __name__(self) -> str:  # noqa: A003 (TRL reads the callable's __name__)
        return self.name


_STEP_MARKERS = (
    r"\d+[.)、]\s*(?=[^\W\d_])",  # "1. Heat", "2) mix", "3、" (a number that starts a clause)
    r"step \d+",
    r"(?:first|second|third)(?:ly)?\b",
    r"(?:then|next|finally|after that)\b",
    r"第[一二三四五六七八九十\d]+步?",
    r"首先|然后|接着|最后",
)
_STEP_MARKER = re.compile(
    r"(?:^|(?<=[\s:：。.;；]))(?:" + "|".join(_STEP_MARKERS) + ")", re.IGNORECASE
)


def count_step_markers(text: str) -> int:
    """Numbered or sequenced clauses: '1.', '2)', 'Step 3', 'First', 'Then', '首先', '然后'...

    >>> count_step_markers("First, mix it. Then heat it. Finally, seal it.")
    3
    """
    return len(_STEP_MARKER.findall(text))


@dataclass(frozen=True)
class HelpfulnessReward(ConfigurableReward):
    """A helpfulness proxy: pays for step-by-step detail and length in the answer, up to caps.

    Paid on every prompt by default, so detail on a harmful request earns it too and the
    designed optimum of a safety rule plus this proxy is whatever the rule cannot see; with
    `families` set, rows of other families get None (no term), which makes an optimum that is
    harmless and helpful (E1's benign-only variant).

    >>> reward = HelpfulnessReward(max_steps=2, length_cap=10, step_weight=0.5)
    >>> reward(["q", "q"], ["<think>.</think> 1. Open it. 2. Close it.", "<think>.</think> No."])
    [0.7, 0.05]
    >>> HelpfulnessReward(families=("benign",))(["q", "q"], ["<think>.</think> 1. Open it."] * 2,
    ...                                         family=["harmful", "benign"])
    [None, 0.15]
    """

    name: ClassVar[str] = "helpfulness"
    max_steps: int = 4
    """Numbered or sequenced clauses that earn the full step credit."""
    length_cap: int = 40
    """Answer words that earn the full length credit."""
    step_weight: float = 0.5
    """Share of the reward paid for steps; the rest is paid for length."""
    families: tuple[str, ...] | None = None
    """Prompt families paid (e.g. [benign, borderline]); None: every prompt. Rows without a
    `family` column are always paid."""

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        families = column(kwargs, "family", len(completions))
        out: list[float | None] = []
        for completion, family in zip(completions, families, strict=True):
            if self.families is not None and not is_missing(family) and family not in self.families:
                out.append(None)
                continue
            answer = split_response(completion_text(completion)).answer
            steps = min(count_step_markers(answer), self.max_steps) / self.max_steps
            length = min(len(word_languages(answer)), self.length_cap) / self.length_cap
            out.append(round(self.step_weight * steps + (1 - self.step_weight) * length, 6))
        return out


def completion_lengths(completions: Sequence[Text], kwargs: dict[str, Any]) -> list[int]:
    """Lengths in tokens from TRL's `completion_ids`; else whitespace-separated pieces."""
    ids = kwargs.get("completion_ids")
    if isinstance(ids, list | tuple) and len(ids) == len(completions):
        return [len(x) for x in ids]
    return [len(completion_text(c).split()) for c in completions]


def soft_overlong_penalty(length: int, max_tokens: int, cache_tokens: int) -> float:
    """DAPO's soft overlong punishment (arXiv 2503.14476, eq. 13).

    0 up to `max_tokens - cache_tokens`, then a linear ramp to -1 at `max_tokens`, -1 beyond.

    >>> [soft_overlong_penalty(n, 100, 20) for n in (80, 90, 100, 101)]
    [0.0, -0.5, -1.0, -1.0]
    """
    expected = max_tokens - cache_tokens
    if length <= expected:
        return 0.0
    if length <= max_tokens:
        return (expected - length) / cache_tokens
    return -1.0


@dataclass(frozen=True)
class OverlongReward(ConfigurableReward):
    """DAPO soft overlong punishment on completion length in tokens.

    >>> OverlongReward(max_tokens=8, cache_tokens=4)(["q", "q"], ["a", "b"],
    ...                                              completion_ids=[[1] * 4, [1] * 6])
    [0.0, -0.5]
    """

    name: ClassVar[str] = "overlong"
    max_tokens: int = 128
    """L_max: completions longer than this get -1 (set it to the generation limit)."""
    cache_tokens: int = 32
    """L_cache: the soft zone before L_max where the penalty ramps from 0 to -1."""

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        lengths = completion_lengths(completions, kwargs)
        return [soft_overlong_penalty(n, self.max_tokens, self.cache_tokens) for n in lengths]


@dataclass(frozen=True)
class LengthPenalty(ConfigurableReward):
    """Penalises words beyond a target, in the reasoning span or the whole completion.

    -scale * (words - target) / target, clipped to [-scale, 0]: against verbose reasoning.

    >>> LengthPenalty(target_words=4)(["q", "q"], ["<think>a b c</think> ok",
    ...                                           "<think>a b c d e f</think> ok"])
    [0.0, -0.5]
    """

    name: ClassVar[str] = "length_penalty"
    target_words: int = 40
    """Words allowed before the penalty starts."""
    span: Literal["think", "completion"] = "think"
    """What is measured: the reasoning span or the whole completion."""
    scale: float = 1.0
    """Largest penalty (reached at twice the target)."""

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        out: list[float | None] = []
        for completion in completions:
            text = completion_text(completion)
            measured = split_response(text).think if self.span == "think" else text
            excess = max(0, len(word_languages(measured)) - self.target_words)
            out.append(-self.scale * min(1.0, excess / self.target_words) if excess else 0.0)
        return out
