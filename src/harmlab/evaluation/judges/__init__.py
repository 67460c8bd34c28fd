"""Judges: one interface, a registry by name, four kinds.

    harmlab eval --model tiny --suite world --judges gold,refusal-string,embedding
    harmlab judge validate --judge refusal-string,embedding --data xstest

| name             | what it measures                 | how                                        |
|------------------|----------------------------------|--------------------------------------------|
| gold             | harm, refusal, correctness       | SafetyWorld's exact gold judge             |
| refusal-string   | refusal (xstest, gcg, advbench)  | the published string-match lists           |
| embedding        | refusal, 3 XSTest classes        | MiniLM features + calibrated logistic head |
| llama-guard      | harm (S1-S14 categories)         | Llama Guard 3 format on a HF guard model   |
| wildguard        | harm and refusal                 | WildGuard format on a HF guard model       |

This package exports the interface and the `JUDGES` registry only. Each judge lives in its own
module (`gold`, `strings`, `embedding`, `guard`), imported when a spec names it, so building
`refusal-string` never pays for the embedding judge's torch import.
"""

from harmlab.evaluation.judges.base import (
    JUDGES,
    Judge,
    JudgeContext,
    JudgeFactory,
    SpanJudge,
    SpanJudgement,
    Transcript,
    Verdict,
    judge_factory,
    make_judge,
)

__all__ = [
    "JUDGES",
    "Judge",
    "JudgeContext",
    "JudgeFactory",
    "SpanJudge",
    "SpanJudgement",
    "Transcript",
    "Verdict",
    "judge_factory",
    "make_judge",
]
