"""Judge validation: agreement with human labels, before a judge is trusted.

    harmlab judge validate --judge refusal-string,embedding --data xstest

For each model whose completions carry human labels (XSTest: gpt4, llama2new, mistralinstruct)
it reports the judge's accuracy against the final human label, 3-class (full compliance / full
refusal / partial refusal) and binary (compliance vs any refusal, the figure XSTest reports for
its own string-match classifier: 0.936 / 0.924 / 0.860), each with a bootstrap 95% interval,
and the 3x3 confusion matrix (rows: human label, columns: judge label).

A judge that learns from labels is validated leave-one-model-out: trained on the other models'
completions, tested on the held-out model's, so no figure comes from data it was fitted or
calibrated on. A fixed judge (string match, guard models) is run on every model as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harmlab import HarmlabError
from harmlab.data.records import COMPLIANCE_LABELS, LabelledCompletion
from harmlab.evaluation.intervals import Estimate, estimate
from harmlab.evaluation.judges.base import Judge, SpanJudgement, Transcript

XSTEST_STRING_MATCH_BINARY = {"gpt4": 0.936, "llama2new": 0.924, "mistralinstruct": 0.860}
"""XSTest's own string-match classifier, binary agreement, from the paper's repository."""


@dataclass(frozen=True)
class Agreement:
    """How well one judge agrees with the human labels of one model's completions."""

    judge: str
    model: str
    """The model whose completions were judged."""
    binary: Estimate
    """Accuracy on compliance vs any refusal."""
    three_class: Estimate
    """Accuracy on the three XSTest labels."""
    confusion: list[list[int]]
    """Counts, rows = human label, columns = judge label, both in COMPLIANCE_LABELS order."""
    trained_on: tuple[str, ...] = ()
    """Models whose completions the judge was trained on (empty for fixed judges)."""
    human: tuple[str, ...] = ()
    """The human labels, item by item (for paired comparisons between judges)."""
    judged: tuple[str, ...] = ()
    """The judge's labels, item by item."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "model": self.model,
            "binary": self.binary.as_dict(),
            "three_class": self.three_class.as_dict(),
            "confusion": self.confusion,
            "labels": list(COMPLIANCE_LABELS),
            "trained_on": list(self.trained_on),
        }


def confusion_matrix(human: Sequence[str], judged: Sequence[str]) -> list[list[int]]:
    """Counts of (human label, judge label) pairs in COMPLIANCE_LABELS order.

    >>> confusion_matrix(["full_compliance", "full_refusal"], ["full_refusal", "full_refusal"])
    [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    """
    matrix = [[0] * len(COMPLIANCE_LABELS) for _ in COMPLIANCE_LABELS]
    for truth, guess in zip(human, judged, strict=True):
        matrix[COMPLIANCE_LABELS.index(truth)][COMPLIANCE_LABELS.index(guess)] += 1
    return matrix


def agreement(judge: str, model: str, human: Sequence[str], judged: Sequence[str]) -> Agreement:
    """Binary and 3-class accuracy with bootstrap intervals, and the confusion matrix."""
    refused_h = [h != "full_compliance" for h in human]
    refused_j = [j != "full_compliance" for j in judged]
    binary = estimate([float(a == b) for a, b in zip(refused_h, refused_j, strict=True)])
    three = estimate([float(a == b) for a, b in zip(human, judged, strict=True)])
    matrix = confusion_matrix(human, judged)
    return Agreement(judge, model, binary, three, matrix, (), tuple(human), tuple(judged))


def binary_gain(judge: Agreement, reference: Agreement) -> Estimate:
    """Paired difference in binary accuracy, judge minus reference, on the same items.

    The bootstrap resamples items, so the interval accounts for both judges erring on the same
    hard completions; an interval above 0 means the judge is better on this model.

    >>> a = agreement("a", "m", ["full_refusal"] * 2, ["full_refusal"] * 2)
    >>> b = agreement("b", "m", ["full_refusal"] * 2, ["full_compliance", "full_refusal"])
    >>> binary_gain(a, b).value
    0.5
    """
    if judge.human != reference.human or not judge.human:
        raise HarmlabError("a paired comparison needs both judges' labels on the same items")
    complied = COMPLIANCE_LABELS[0]

    def correct(labels: Sequence[str]) -> list[bool]:
        pairs = zip(judge.human, labels, strict=True)
        return [(h == complied) == (j == complied) for h, j in pairs]

    pairs = zip(correct(judge.judged), correct(reference.judged), strict=True)
    return estimate([float(a) - float(b) for a, b in pairs])


def compliance_label(judgement: SpanJudgement, judge: str) -> str:
    """A span judgement as an XSTest label (judges without partial refusal never say it)."""
    if judgement.label in COMPLIANCE_LABELS:
        return judgement.label
    if judgement.refused is None:
        raise HarmlabError(f"judge '{judge}' does not measure refusal; it cannot be validated here")
    return "full_refusal" if judgement.refused else "full_compliance"


def judge_labels(judge: Judge, items: Sequence[LabelledCompletion], batch: int = 64) -> list[str]:
    """The judge's XSTest label for each completion (the answer span: these have no reasoning)."""
    labels: list[str] = []
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        verdicts = judge.judge([Transcript.of(i.prompt, i.completion) for i in chunk])
        labels.extend(compliance_label(v.answer, judge.name) for v in verdicts)
    return labels


def by_model(items: Sequence[LabelledCompletion]) -> dict[str, list[int]]:
    """Indices of the items each model wrote, in first-seen model order."""
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item.model, []).append(index)
    return groups


def agreements(
    judge: str, items: Sequence[LabelledCompletion], judged: Sequence[str]
) -> list[Agreement]:
    """Agreement per model of a judge's labels (one per item) with the items' human labels."""
    return [
        agreement(judge, model, [items[i].label for i in idx], [judged[i] for i in idx])
        for model, idx in by_model(items).items()
    ]


def validate_fixed(judge: Judge, items: Sequence[LabelledCompletion]) -> list[Agreement]:
    """Agreement per model for a judge that is not trained on these labels."""
    return agreements(judge.name, items, judge_labels(judge, items))


def validate_embedding_lomo(
    items: Sequence[LabelledCompletion], name: str = "embedding", config: Any = None
) -> list[Agreement]:
    """Leave-one-model-out agreement of the embedding judge (features computed once)."""
    from harmlab.evaluation.judges.embedding import (
        HeadConfig,
        MiniLMEncoder,
        fit_refusal_head,
        judge_features,
        refusal_features,
    )

    groups = by_model(items)
    if len(groups) < 2:
        raise HarmlabError("leave-one-model-out needs completions of at least two models")
    features = refusal_features(
        MiniLMEncoder(), [i.prompt.text for i in items], [i.completion for i in items]
    )
    labels = np.array([COMPLIANCE_LABELS.index(i.label) for i in items])
    models = np.array([i.model for i in items])
    results = []
    for model, idx in groups.items():
        train = models != model
        head = fit_refusal_head(
            features[train], labels[train], models[train], config or HeadConfig()
        )
        judged = [j.label for j in judge_features(head, features[idx])]
        found = agreement(name, model, [items[i].label for i in idx], judged)
        trained_on = tuple(m for m in groups if m != model)
        results.append(Agreement(**{**vars(found), "trained_on": trained_on}))
    return results


def is_trained_spec(spec: str) -> bool:
    """A judge that learns from the labels it is validated on (validated leave-one-model-out)."""
    return spec == "embedding"


def validate_judge(
    spec: str, items: Sequence[LabelledCompletion], context: Any = None
) -> list[Agreement]:
    """Agreement of the judge a spec names with the labels, per model.

    `embedding` (no saved folder) is trained leave-one-model-out; any other spec, including
    `embedding:FOLDER`, is a fixed judge run on every model as it is.
    """
    from harmlab.evaluation.judges.base import make_judge

    if is_trained_spec(spec):
        return validate_embedding_lomo(items, spec)
    return validate_fixed(make_judge(spec, context), items)


def pooled_binary(agreements: Sequence[Agreement]) -> float:
    """Binary accuracy over all models' completions together (weighted by their counts)."""
    total = sum(a.binary.n for a in agreements)
    return sum(a.binary.value * a.binary.n for a in agreements) / total
