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
"""

from harmlab.evaluation.judges import embedding, gold, guard, strings
from harmlab.evaluation.judges.base import (
    Judge,
    JudgeContext,
    SpanJudge,
    SpanJudgement,
    Transcript,
    Verdict,
    judge_names,
    make_judge,
    register_judge,
)
from harmlab.evaluation.judges.embedding import (
    EmbeddingJudge,
    HeadConfig,
    MiniLMEncoder,
    load_embedding_judge,
    refusal_features,
    train_embedding_judge,
)
from harmlab.evaluation.judges.gold import GoldWorldJudge
from harmlab.evaluation.judges.guard import GUARD_FORMATS, GuardJudge
from harmlab.evaluation.judges.strings import REFUSAL_LISTS, RefusalStringJudge

__all__ = [
    "GUARD_FORMATS",
    "REFUSAL_LISTS",
    "EmbeddingJudge",
    "GoldWorldJudge",
    "GuardJudge",
    "HeadConfig",
    "Judge",
    "JudgeContext",
    "MiniLMEncoder",
    "RefusalStringJudge",
    "SpanJudge",
    "SpanJudgement",
    "Transcript",
    "Verdict",
    "embedding",
    "gold",
    "guard",
    "judge_names",
    "load_embedding_judge",
    "make_judge",
    "refusal_features",
    "register_judge",
    "strings",
    "train_embedding_judge",
]
