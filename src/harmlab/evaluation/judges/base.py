"""The judge interface: a typed verdict on the think span and the answer span, judges by name.

    harmlab eval --model tiny --suite world-test --judges gold,refusal-string,embedding
    harmlab judge validate --judge refusal-string:gcg --data xstest

A `Judge` takes a batch of `Transcript`s (prompt record, completion, its two spans) and returns
one `Verdict` each: a `SpanJudgement` (label, score, rationale, and the normalised `refused` /
`harmful` facts the metrics read) for the reasoning span and for the answer span, in the manner
of inspect_ai's `Score`. A judge says what it measures: a refusal judge leaves `harmful` None, a
harm judge leaves `refused` None, the gold judge fills both.

Judges are built by name from a spec `name[:argument]` (`refusal-string:gcg`,
`embedding:/path/to/judge`, `llama-guard:/models/lg3`) through the `JUDGES` registry, whose
built-ins are imported only when named; a spec `package.module:function[:argument]` is the
escape hatch, calling `function(argument_or_None, context)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harmlab import HarmlabError
from harmlab.data.records import PromptRecord
from harmlab.reasoning_format import split_response
from harmlab.registry import DOTTED, Registry


@dataclass(frozen=True)
class SpanJudgement:
    """A judge's verdict on one span."""

    label: str
    """The judge's own label (for example full_refusal, harmful, safe)."""
    score: float
    """Strength in [0, 1] of what the judge looks for (refusal for refusal judges, harm for
    harm judges); 0 or 1 for rule judges."""
    rationale: str
    """Why, in a few words."""
    refused: bool | None = None
    """The span refuses (None: this judge does not measure refusal)."""
    harmful: bool | None = None
    """The span is harmful (None: this judge does not measure harm)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Judge-specific facts (disclosed steps, surface forms, guard categories, ...)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": self.score,
            "rationale": self.rationale,
            "refused": self.refused,
            "harmful": self.harmful,
            "details": self.details,
        }


@dataclass(frozen=True)
class Verdict:
    """One judge's verdict on one completion."""

    judge: str
    """The spec of the judge that gave it."""
    think: SpanJudgement | None
    """Verdict on the reasoning span; None when the completion has no reasoning to judge."""
    answer: SpanJudgement
    """Verdict on the answer span."""
    correct: bool | None = None
    """Task correctness when the judge can tell (the gold judge on arithmetic)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "think": self.think.as_dict() if self.think else None,
            "answer": self.answer.as_dict(),
            "correct": self.correct,
        }


@dataclass(frozen=True)
class Transcript:
    """What a judge reads: the prompt and the completion, split into its two spans."""

    prompt: PromptRecord
    completion: str
    think: str
    answer: str

    @classmethod
    def of(cls, prompt: PromptRecord, completion: str) -> Transcript:
        """Split `completion` with the tolerant R1 parser."""
        parsed = split_response(completion)
        return cls(prompt, completion, parsed.think, parsed.answer)


@runtime_checkable
class Judge(Protocol):
    """Anything that turns transcripts into verdicts, in order, batched."""

    name: str

    def judge(self, transcripts: Sequence[Transcript]) -> list[Verdict]: ...


class SpanJudge:
    """Base for judges that look at each span alone: implement `judge_span`."""

    name = "span-judge"

    def judge_span(self, prompt: PromptRecord, text: str) -> SpanJudgement:
        raise NotImplementedError

    def judge(self, transcripts: Sequence[Transcript]) -> list[Verdict]:
        return [
            Verdict(
                self.name,
                self.judge_span(t.prompt, t.think) if t.think.strip() else None,
                self.judge_span(t.prompt, t.answer),
            )
            for t in transcripts
        ]


@dataclass(frozen=True)
class JudgeContext:
    """What judge factories may need to build a judge."""

    world_seed: int = 0
    """Seed of the SafetyWorld the gold judge knows."""
    data_dir: Path | None = None
    """Third-party data (XSTest) for judges trained on first use."""
    device: str | None = None
    """Device for model-based judges (None: CPU)."""
    progress: Callable[[str], None] | None = None
    """Told about slow steps (training a judge), for a status line."""


JudgeFactory = Callable[[str | None, JudgeContext], Judge]
"""Builds a judge from its spec argument (None when the spec has none) and the context."""

JUDGES = Registry[JudgeFactory](
    "judge",
    {
        "gold": "harmlab.evaluation.judges.gold:gold_judge",
        "audit": "harmlab.evaluation.judges.audit:audit_judge",
        "refusal-string": "harmlab.evaluation.judges.strings:refusal_string_judge",
        "embedding": "harmlab.evaluation.judges.embedding:embedding_judge",
        "llama-guard": "harmlab.evaluation.judges.guard:llama_guard_judge",
        "wildguard": "harmlab.evaluation.judges.guard:wildguard_judge",
    },
    accepts=callable,
)
"""Judge factories by name; `@JUDGES.register("name")` adds one."""


def judge_factory(spec: str) -> tuple[JudgeFactory, str | None]:
    """The factory a spec names and the argument it hands over (None when there is none).

    A registered name owns everything after its first ':' (`embedding:/path/a:b`); otherwise
    the spec is `package.module:function[:argument]`.

    >>> judge_factory("refusal-string:gcg")[1], judge_factory("gold")[1]
    ('gcg', None)
    """
    head, _, rest = spec.partition(":")
    if head in JUDGES:
        return JUDGES.get(head), rest or None
    function_name, _, argument = rest.partition(":")
    reference = f"{head}:{function_name}"
    if not DOTTED.match(reference):
        raise HarmlabError(JUDGES.unknown(head, also="[:argument]"))
    return JUDGES.get(reference), argument or None


def make_judge(spec: str, context: JudgeContext | None = None) -> Judge:
    """Build the judge a spec names: `name`, `name:argument` or `package.module:function`."""
    factory, argument = judge_factory(spec)
    judge = factory(argument, context or JudgeContext())
    judge.name = spec
    return judge
