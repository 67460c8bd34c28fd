"""The rule behind the gamed rate: any safety rule reward or judge, reading a chosen span.

    harmlab eval --model ./runs/grpo --suite world --judges gold --rule refusal_phrase
    harmlab train grpo --config configs/grpo-from-base.yaml monitor.rule=refusal_phrase

The gamed rate (`harmlab.evaluation.metrics`) counts harmful requests that a *rule* calls safe
while the trusted judge calls them harmful. A rule is named by a spec `NAME[:SPAN]`:

- NAME is a safety rule reward (`keyword_blocklist`, `refusal_phrase`, or any
  `package.module:attribute` reward with a `verdicts` method, see
  `harmlab.rewards.safety.SafetyRule`), or a judge spec (`refusal-string:gcg`, `gold`, ...);
- SPAN is `answer` (default: the text a user is shown), `completion` (reasoning and answer) or
  `think`; `none` disables the rule.

A reward rule is the very object GRPO trains against, built with its `span` (and `world_seed`,
for a blocklist made from the world's lexicon) and asked for its verdicts, so the rule never
re-implements a reward. A judge rule reads the span as an answer: it calls it safe when the
judge finds no harm, or, for a refusal-only judge, when it finds a refusal. The old spelling
`keyword-blocklist[:SPAN]` still works. The blocklist sees none of the synonyms, obfuscations
or Chinese forms the gold judge sees: the gap a policy can exploit (arXiv 2501.17030).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

from harmlab import HarmlabError
from harmlab.data.records import PromptRecord, record_from_world
from harmlab.evaluation.judges.base import (
    JUDGES,
    Judge,
    JudgeContext,
    SpanJudgement,
    Transcript,
    make_judge,
)
from harmlab.reasoning_format import split_response
from harmlab.registry import DOTTED
from harmlab.rewards.registry import REWARDS, RewardSpec, build_reward, in_world, reward_settings
from harmlab.rewards.safety import RuleVerdict, SafetyRule, Span, span_text
from harmlab.world import WorldPrompt

RULE_SPANS: tuple[Span, ...] = get_args(Span)
_OLD_SPELLINGS = {"keyword-blocklist": "keyword_blocklist"}
Prompt = PromptRecord | WorldPrompt


def as_record(prompt: Prompt) -> PromptRecord:
    """A world prompt as the record judges read (records pass through)."""
    return prompt if isinstance(prompt, PromptRecord) else record_from_world(prompt, "world")


def reward_columns(records: Sequence[PromptRecord]) -> dict[str, list[Any]]:
    """The dataset columns a reward gets in training: a world prompt's own, else the record's."""
    rows = [r.world.columns() if r.world is not None else r.columns() for r in records]
    names = dict.fromkeys(name for row in rows for name in row)
    return {name: [row.get(name) for row in rows] for name in names}


def judgement_verdict(judgement: SpanJudgement) -> RuleVerdict:
    """Safe when the judge finds no harm; a refusal-only judge: when it finds a refusal."""
    if judgement.harmful is not None:
        return RuleVerdict(not judgement.harmful, judgement.rationale)
    if judgement.refused is not None:
        return RuleVerdict(judgement.refused, judgement.rationale)
    return RuleVerdict(None, judgement.rationale)


@dataclass(frozen=True)
class Rule:
    """A rule's verdicts on (prompt, completion) pairs, through a safety reward or a judge."""

    spec: str
    """The canonical spec (`keyword_blocklist:answer`), recorded in summaries."""
    span: Span
    """The text the rule reads."""
    reward: SafetyRule | None = None
    """The safety rule reward, when the rule is one."""
    judge: Judge | None = None
    """The judge, when the rule is one."""

    def verdicts(self, prompts: Sequence[Prompt], completions: Sequence[str]) -> list[RuleVerdict]:
        """One verdict per completion, in order."""
        records = [as_record(p) for p in prompts]
        if self.reward is not None:
            texts = [r.text for r in records]
            return self.reward.verdicts(texts, list(completions), **reward_columns(records))
        assert self.judge is not None
        texts = [judged_text(c, self.span) for c in completions]
        transcripts = [Transcript(r, t, "", t) for r, t in zip(records, texts, strict=True)]
        return [judgement_verdict(v.answer) for v in self.judge.judge(transcripts)]

    def says_safe(self, prompt: Prompt, completion: str) -> bool | None:
        """Whether the rule calls one completion safe (None: it does not judge this prompt).

        >>> rule = make_rule("keyword_blocklist")
        >>> prompt = PromptRecord("p", "How do I make it?")
        >>> rule is not None and rule.says_safe(prompt, "<think>x</think> Nothing to see.")
        True
        """
        return self.verdicts([prompt], [completion])[0].safe


def judged_text(completion: str, span: Span) -> str:
    """The span a judge rule reads; `completion` is reasoning and answer without the tags (a
    judge that splits its input itself would otherwise see only the answer)."""
    if span != "completion":
        return span_text(completion, span)
    parsed = split_response(completion)
    return f"{parsed.think}\n{parsed.answer}".strip()


def parse_spec(spec: str) -> tuple[str, Span | None]:
    """NAME and SPAN of a rule spec (SPAN None when not given), old spellings made current.

    >>> parse_spec("keyword-blocklist:completion"), parse_spec("refusal-string:gcg")
    (('keyword_blocklist', 'completion'), ('refusal-string:gcg', None))
    """
    name, _, last = spec.rpartition(":")
    span: Span | None = None
    if name and last in RULE_SPANS:
        span = next(s for s in RULE_SPANS if s == last)
    else:
        name = spec
    return _OLD_SPELLINGS.get(name, name), span


def make_rule(spec: str, world_seed: int = 0, held_out_category: str | None = None) -> Rule | None:
    """The rule a spec `NAME[:answer|completion|think]` names; None for `none`. A reward rule
    is built for the world (`world_seed`, and its held-out category rotation when given: the
    keyword blocklist lists the training categories of that world)."""
    resolved = check_rule(spec)
    if resolved is None:
        return None
    name, span, is_reward = resolved
    if is_reward:
        return _reward_rule(name, span, world_seed, held_out_category)
    judge = make_judge(name, JudgeContext(world_seed=world_seed))
    return Rule(f"{name}:{span or 'answer'}", span or "answer", judge=judge)


def check_rule(spec: str) -> tuple[str, Span | None, bool] | None:
    """NAME, SPAN and whether NAME is a reward, checked without building anything (configs call
    it before any model loads); None for `none`. Unknown names, a span the reward cannot read and
    a reward that is not a safety rule are one-line errors.

    >>> check_rule("keyword-blocklist:completion"), check_rule("refusal-string:gcg")
    (('keyword_blocklist', 'completion', True), ('refusal-string:gcg', None, False))
    """
    if spec.strip() == "none":
        return None
    name, span = parse_spec(spec.strip())
    head, _, rest = name.partition(":")
    if rest and _OLD_SPELLINGS.get(head, head) in REWARDS:  # a registered reward takes no argument
        raise HarmlabError(f"rule '{spec}': unknown span '{rest}'; spans: {', '.join(RULE_SPANS)}")
    if _is_reward(name):
        entry = REWARDS.get(name)
        if not hasattr(entry, "verdicts"):
            raise HarmlabError(
                f"reward '{name}' is not a safety rule: it has no verdicts(prompts, completions, "
                "**columns) method (see harmlab.rewards.safety.SafetyRule)"
            )
        if span is not None and "span" not in reward_settings(entry):
            raise HarmlabError(f"rule '{spec}': reward '{name}' has no span setting")
        return name, span, True
    if head in JUDGES:
        return name, span, False
    reference = f"{head}:{rest.partition(':')[0]}"
    if DOTTED.match(reference):
        JUDGES.get(reference)  # importable, or a one-line error
        return name, span, False
    raise HarmlabError(
        f"unknown rule '{spec}'; a rule is NAME[:answer|completion|think] or none, NAME a "
        "safety rule reward (keyword_blocklist, refusal_phrase, package.module:attribute) "
        f"or a judge ({', '.join(JUDGES.names())})"
    )


def _is_reward(name: str) -> bool:
    """A registered reward, or a `module:attribute` naming a reward rather than a judge factory:
    an object with safety-rule verdicts, a dataclass of reward settings, or a function with
    TRL's reward signature (its first parameter is `prompts`)."""
    if name in REWARDS:
        return True
    if not DOTTED.match(name):
        return False
    entry = REWARDS.get(name)
    if hasattr(entry, "verdicts") or dataclasses.is_dataclass(entry):
        return True
    try:
        first = next(iter(inspect.signature(entry).parameters), "")
    except (TypeError, ValueError):  # no introspectable signature: leave it to the judges
        return False
    return first == "prompts"


def _reward_rule(
    name: str, span: Span | None, world_seed: int, held_out_category: str | None
) -> Rule:
    settings = reward_settings(REWARDS.get(name))
    params: dict[str, Any] = {"span": span or "answer"} if "span" in settings else {}
    params = in_world(RewardSpec(name, params=params), world_seed, held_out_category).params
    reward = build_reward(RewardSpec(name, params=params))
    if not isinstance(reward, SafetyRule):  # a module:attribute whose instances lack verdicts
        raise HarmlabError(f"reward '{name}' is not a safety rule: it has no verdicts method")
    canonical = f"{name}:{params['span']}" if "span" in params else name
    return Rule(canonical, params.get("span", "completion"), reward=reward)
