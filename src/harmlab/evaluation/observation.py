"""One judged sample as the metrics read it: `Observation`, built by `observe` in one place.

    harmlab eval --model tiny --suite world --judges gold     # every logged sample observed here
    harmlab card --model tiny                                 # the card observes its samples

The evaluation harness, the behaviour card and the training probe each turn a judged sample
into an `Observation` with `observe` (prompt columns, completion, the trusted judge's verdict,
the rule's verdict, its cost), so the formulas of `harmlab.evaluation.metrics` read the same
fields wherever they run. The prompt's SafetyWorld coordinates travel with it: its side of
every generalization axis (`wrapper`, `obfuscation`, `language`, `category`, `held_out_axis`)
and its hazard (the cluster of the compliance bootstrap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harmlab.reasoning_format import split_response
from harmlab.world import WorldPrompt
from harmlab.world.judge import last_integer
from harmlab.world.language import language_share


@dataclass(frozen=True)
class Observation:
    """One judged sample, flattened to what the metric formulas read."""

    family: str
    """harmful, benign or borderline."""
    category: str = ""
    held_out: bool = False
    """The prompt is on the held-out side of some axis (any category of a file is trained)."""
    language: str = "en"
    difficulty: int = 0
    wrapper: str = ""
    """Attack style ('' for a plain request)."""
    obfuscation: str = ""
    """How the prompt writes its hazard name or object word ('' when plain)."""
    held_out_axis: str = ""
    """The axes on whose held-out side the prompt lies, '+'-joined ('' when none)."""
    hazard: str = ""
    """The requested hazard ('' unless a SafetyWorld harmful request)."""
    harmful: bool | None = None
    """The answer is harmful (trusted judge); None when it cannot tell."""
    think_harmful: bool | None = None
    """The reasoning is harmful; None when there is no reasoning or no harm judge."""
    refused: bool | None = None
    """The answer refuses (trusted judge)."""
    correct: bool | None = None
    """Benign task answered correctly (None when not a verifiable task)."""
    surface_forms: tuple[str, ...] = ()
    """Surface forms of the disclosure in the answer (gold judge only)."""
    think_language_share: float | None = None
    """Share of reasoning words in the prompt's language (None without reasoning words)."""
    rule_safe: bool | None = None
    """The rule's verdict (for example the keyword blocklist): True means it says safe."""
    format_valid: bool | None = None
    think_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class SampleCost:
    """What producing one completion cost (0 where the caller did not count)."""

    completion_tokens: int = 0
    """Generated tokens, end-of-sequence included."""
    think_tokens: int = 0
    """Tokens of the reasoning span."""
    seconds: float = 0.0
    """Generation wall time attributed to the sample."""


def task_correct(prompt: WorldPrompt | None, answer: str) -> bool | None:
    """Whether a verifiable task's answer ends in the right integer (None for other prompts).

    >>> task_correct(None, "42") is None
    True
    """
    if prompt is None or prompt.family != "benign" or prompt.answer is None:
        return None
    return last_integer(answer) == prompt.answer


def observe(
    prompt: Mapping[str, Any],
    completion: str,
    verdict: Mapping[str, Any],
    *,
    rule_safe: bool | None = None,
    correct: bool | None = None,
    cost: SampleCost | None = None,
) -> Observation:
    """One judged sample as the metrics read it; the harness, card and probe all build them here.

    `prompt` is the prompt's columns (`WorldPrompt.columns()`, `PromptRecord.columns()`, or an
    EvalLog record, which holds them); `verdict` is the trusted judge's verdict as
    `Verdict.as_dict()` gives it (what EvalLog stores); `correct` is `task_correct`'s check.
    """
    parsed = split_response(completion)
    answer, think = verdict["answer"], verdict["think"]
    harmful = answer["harmful"]
    if harmful is None and answer["refused"] is not None:
        harmful = not answer["refused"]  # refusal-only judge: compliance is the harm proxy
    cost = cost or SampleCost()
    return Observation(
        family=prompt["family"],
        category=prompt.get("category") or "",
        held_out=bool(prompt.get("held_out")),
        language=prompt["language"],
        difficulty=int(prompt.get("difficulty") or 0),
        wrapper=prompt.get("wrapper") or "",
        obfuscation=prompt.get("obfuscation") or "",
        held_out_axis=prompt.get("held_out_axis") or "",
        hazard=prompt.get("hazard") or "",
        harmful=harmful,
        think_harmful=think["harmful"] if think else None,
        refused=answer["refused"],
        correct=correct,
        surface_forms=tuple(answer["details"].get("surface_forms", ())) if harmful else (),
        think_language_share=language_share(parsed.think, prompt["language"]),
        rule_safe=rule_safe,
        format_valid=parsed.valid,
        think_tokens=cost.think_tokens,
        completion_tokens=cost.completion_tokens,
        seconds=cost.seconds,
    )
