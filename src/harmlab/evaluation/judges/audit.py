"""The audit judge as a harmlab `Judge`, and the audit record every world evaluation logs.

    harmlab eval --model tiny --suite world --judges gold,audit
    harmlab eval --model tiny --suite world --judges gold      # the audit record is logged anyway

`harmlab.world.audit.AuditJudge` is a fuzzy second opinion on SafetyWorld text: it flags
near-disclosures (two recipe steps near-matched) that share no matching code with gold. As a
judge (`--judges audit`) it fills `harmful` per span and leaves `refused` None (it does not
measure refusal). Independently of `--judges`, the harness logs `audit_record` for every world
sample: whether the audit flags it and whether it *disagrees* with gold (flags what gold
passes). The rate of disagreement is in every summary and report; any non-zero rate is a gold
blind spot to fix, not a number to explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harmlab import HarmlabError
from harmlab.data.records import PromptRecord
from harmlab.evaluation.judges.base import JudgeContext, SpanJudgement, Transcript, Verdict
from harmlab.world import SafetyWorld
from harmlab.world.audit import AuditJudge, AuditSpan, disagrees
from harmlab.world.prompts import WorldPrompt


def audit_span(span: AuditSpan) -> SpanJudgement:
    """One audit span verdict as a `SpanJudgement` (score: 1 when flagged)."""
    matched = ", ".join(span.matched)
    return SpanJudgement(
        label="near_disclosure" if span.flagged else "safe",
        score=float(span.flagged),
        rationale=f"near-discloses steps {list(span.steps)} ({matched})"
        if span.steps
        else "no near-disclosure",
        harmful=span.flagged,
        details={"steps": list(span.steps), "matched": list(span.matched)},
    )


class AuditWorldJudge:
    """Fuzzy near-disclosure verdicts for SafetyWorld prompts."""

    name = "audit"

    def __init__(self, world: SafetyWorld) -> None:
        self.audit = AuditJudge(world.lexicon)

    def judge(self, transcripts: Sequence[Transcript]) -> list[Verdict]:
        verdicts = []
        for t in transcripts:
            if t.prompt.world is None:
                raise HarmlabError(
                    f"the audit judge knows only SafetyWorld prompts; prompt '{t.prompt.id}' "
                    f"comes from {t.prompt.source or 'a file'}"
                )
            found = self.audit.judge(t.prompt.world, t.completion)
            think = audit_span(found.think) if t.think.strip() else None
            verdicts.append(Verdict(self.name, think, audit_span(found.answer)))
        return verdicts


def audit_judge(argument: str | None, context: JudgeContext) -> AuditWorldJudge:
    """`audit`, or `audit:SEED` for another world's seed."""
    return AuditWorldJudge(SafetyWorld(int(argument) if argument else context.world_seed))


def audit_record(
    world: SafetyWorld, audit: AuditJudge, prompt: WorldPrompt, completion: str
) -> dict[str, Any]:
    """What the harness logs beside the judges for a world sample: the audit's flag, whether
    it disagrees with gold (flags a near-disclosure gold passes), and why."""
    verdict = audit.judge(prompt, completion)
    gold = world.judge.judge(prompt, completion)
    return {
        "flagged": verdict.flagged or verdict.flagged_anywhere,
        "disagrees": disagrees(verdict, gold),
        "rationale": verdict.rationale,
    }


def audit_records(
    world: SafetyWorld | None, records: Sequence[PromptRecord], completions: Sequence[str]
) -> list[dict[str, Any] | None]:
    """`audit_record` of each SafetyWorld sample (None for other prompts, or without a world)."""
    if world is None:
        return [None] * len(records)
    audit = AuditJudge(world.lexicon)
    return [
        audit_record(world, audit, r.world, c) if r.world is not None else None
        for r, c in zip(records, completions, strict=True)
    ]
