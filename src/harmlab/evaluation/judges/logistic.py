"""Multinomial logistic regression with per-feature L2 penalties, as small pure functions.

    harmlab judge train --data xstest       # fits the embedding judge's head with these

The embedding judge needs three things scikit-learn would also give, written out here in ~100
lines of torch so the fitted model is a handful of tensors (saved as safetensors, never
pickled): standardised features, an L2 penalty that can spare chosen features (the rule-based
refusal flag stays unpenalised so the embeddings only correct it), and class-balanced weights
(the share of refusals differs a lot between the models that wrote the training completions).
The objective is convex; L-BFGS with a strong-Wolfe line search solves it to tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class LogisticModel:
    """A fitted multinomial logistic regression over standardised features."""

    mean: np.ndarray
    """Feature means of the training data (standardisation)."""
    scale: np.ndarray
    """Feature standard deviations of the training data (standardisation)."""
    weights: np.ndarray
    """Shape (features, classes)."""
    bias: np.ndarray
    """Shape (classes,)."""

    def tensors(self) -> dict[str, torch.Tensor]:
        """The model as named tensors (for safetensors)."""
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in vars(self).items()}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> LogisticModel:
        return cls(**{k: tensors[k].numpy() for k in ("mean", "scale", "weights", "bias")})


def class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Balanced class weights n / (k * count), as scikit-learn's class_weight='balanced'.

    >>> class_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.6666666666666666, 2.0]
    """
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    return len(labels) / (n_classes * np.maximum(counts, 1.0))


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    l2: float,
    unpenalised: Sequence[int] = (),
    balanced: bool = True,
) -> LogisticModel:
    """Minimise weighted cross-entropy + l2 * |W|^2 (sparing `unpenalised` feature rows)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = torch.from_numpy((features - mean) / scale).double()
    y = torch.from_numpy(labels.astype(np.int64))
    weight = torch.from_numpy(
        class_weights(labels, n_classes) if balanced else np.ones(n_classes)
    ).double()
    penalty = torch.ones(features.shape[1], 1, dtype=torch.float64)
    penalty[list(unpenalised)] = 0.0
    w = torch.zeros(features.shape[1], n_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [w, b], max_iter=500, line_search_fn="strong_wolfe", tolerance_grad=1e-9
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y, weight=weight)
        loss = loss + l2 * (penalty * w**2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return LogisticModel(mean, scale, w.detach().numpy(), b.detach().numpy())


def predict_proba(model: LogisticModel, features: np.ndarray) -> np.ndarray:
    """Class probabilities, shape (samples, classes)."""
    logits = ((features - model.mean) / model.scale) @ model.weights + model.bias
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def best_threshold(scores: np.ndarray, positives: np.ndarray) -> float:
    """The decision threshold on `scores` with the highest accuracy (ties: nearest 0.5).

    >>> best_threshold(np.array([0.1, 0.3, 0.6, 0.7]), np.array([False, True, True, True]))
    0.3
    """
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    accuracy = np.array([((scores >= t) == positives).mean() for t in grid])
    best = np.flatnonzero(accuracy == accuracy.max())
    return float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])
