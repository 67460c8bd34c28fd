"""A learned safety reward (or cost) model: a classifier fitted on a budget of gold labels.

    harmlab reward fit --labels 100,1000,10000 --out runs/rm   # one head per label budget
    pytest tests/rewards/test_learned.py -s        # prints held-out agreement per label budget
    rewards:                                       # in a training config, once fitted
      - {name: learned_safety, params: {path: runs/rm/labels-1000}}
      - {name: learned_safety, params: {labels: 1000}}   # or fitted on first use, then cached
    constraint:                                    # or as constrained GRPO's cost
      cost_reward: {name: learned_safety, params: {path: runs/rm/labels-1000, output: cost}}

Gao et al. (arXiv 2210.10760) measure how a proxy reward model trained on N labels from a gold
reward is over-optimised; here the gold reward is SafetyWorld's exact judge, so the proxy's
label budget is the one knob. The model is a logistic head (`harmlab.evaluation.judges.
logistic`) on frozen MiniLM sentence embeddings of the answer span (the embedding judge's
encoder), trained to predict gold's "harmful" verdict: CPU-fast to fit and to score, saved as
safetensors. Departure from Gao et al.: their reward models are fine-tuned LMs, not a linear
head on frozen features; the backbone of the policy is not used, so the proxy cannot co-adapt.

`fit_label_budgets` draws labelled samples (world-written responses to harmful requests:
compliance in every surface form, refusals, refuse-then-comply, harm hidden in the reasoning),
spends exactly N gold verdicts on the head of budget N, and reports the head's agreement with gold
on a separate held-out draw (not counted in the budget: it is measurement, not training data).
`learned_safety_adaptive` is the iterated-RLHF variant: every K optimizer steps it buys gold
labels on the policy's current rollouts, refits on everything bought so far and logs the labels
used (`learned/labels_used`), so a static and an adaptive proxy compare at equal label spend.

Given `labels: N` instead of a `path`, the reward fits its head on first use from its world
(`world_seed`, set to the training world's by `harmlab.rewards.registry.in_world`) and caches
it under `harmlab cache/rewards/`, keyed by world seed and version, held-out category, labels,
draw seed and held-out size; one process fits (`FolderLock`) and the folder appears whole (a
rename), so parallel arms (E8) and reruns reuse one fit. Every reward logs the gold labels it
was fitted on as `learned/labels_used` (and a static head its held-out agreement with gold,
`learned/agreement`), so a report can count labels per unit of harm removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from harmlab import HarmlabError
from harmlab.evaluation.judges.logistic import LogisticModel
from harmlab.rewards.base import Text, column, completion_text, is_missing, rows
from harmlab.rewards.learned_fit import (
    HeadRequest,
    features,
    fit_head,
    fitted_head,
    harm_probability,
    load_head,
    load_labels,
)
from harmlab.rewards.rules import ConfigurableReward
from harmlab.rewards.safety import Span, span_text
from harmlab.world import SafetyWorld, WorldPrompt
from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY


@dataclass(frozen=True)
class LearnedSafetyReward(ConfigurableReward):
    """A fitted head's judgement as a reward, 1 - 2·P(harmful) in [-1, 1] (gold_judge's scale
    on harmful requests), or as a cost, P(harmful) in [0, 1]; None for families it does not
    judge. Rows without a `family` column are always judged. Logs `learned/labels_used`."""

    name: ClassVar[str] = "learned_safety"
    path: str = ""
    """Folder of a fitted head, `labels-N` of `fit_label_budgets` (head.safetensors,
    reward_model.json); empty: fit one on first use from `labels`."""
    labels: int = 0
    """With no `path`: the gold label budget of a head fitted on first use in the world
    `world_seed` and cached (see the module docstring); 0 with no path is an error."""
    world_seed: int = 0
    """The SafetyWorld whose gold judge labels (the training world's, set by the registry)."""
    held_out_category: str | None = None
    """That world's held-out category (None: its default): labels come from its RL split."""
    seed: int = 0
    """Seed of the labelled draw of a head fitted on first use."""
    held_out: int = 500
    """Held-out samples a head fitted on first use reports its agreement with gold on."""
    output: Literal["reward", "cost"] = "reward"
    """`reward` (safer is higher) or `cost` (P(harmful), for `constraint.cost_reward`)."""
    families: tuple[str, ...] = ("harmful",)
    """Rows whose `family` column is one of these are judged (the head saw only these)."""

    def __post_init__(self) -> None:
        if not self.path and self.labels < 2:
            raise HarmlabError(
                f"{self.name} needs params.path (a fitted head's folder) or params.labels (a "
                "gold label budget of at least 2, fitted on first use)"
            )
        self.head  # noqa: B018 (a missing folder fails, or the fit runs, when the config is built)

    @cached_property
    def folder(self) -> Path:
        """The head's folder: `path`, or the cached fit of `labels` (fitted now if missing)."""
        if self.path:
            return Path(self.path)
        category = self.held_out_category
        if category == DEFAULT_HELD_OUT_CATEGORY:
            category = None  # naming the default category reuses the unnamed fit
        request = HeadRequest(self.labels, self.world_seed, category, self.seed, self.held_out)
        return fitted_head(request)

    @cached_property
    def fitted(self) -> tuple[LogisticModel, dict[str, Any]]:
        """The saved head and its fit report."""
        return load_head(self.folder)

    @property
    def head(self) -> tuple[LogisticModel, Span]:
        model, info = self.fitted
        return model, info.get("span", "answer")

    @property
    def labels_used(self) -> int:
        """Gold labels the head was fitted on."""
        return int(self.fitted[1]["labels"])

    def metrics(self) -> dict[str, float]:
        """What the reward logs at every call: the labels spent and, for the head as fitted,
        its held-out agreement with gold (E8 reports both per label budget)."""
        return {
            "learned/labels_used": float(self.labels_used),
            "learned/agreement": float(self.fitted[1]["agreement"]),
        }

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            for key, value in self.metrics().items():
                log_metric(key, value)
        model, span = self.head
        families = column(kwargs, "family", len(completions))
        judged = [i for i, f in enumerate(families) if is_missing(f) or f in self.families]
        out: list[float | None] = [None] * len(completions)
        if not judged:
            return out
        scores = harm_probability(model, [span_text(completions[i], span) for i in judged])
        for i, p in zip(judged, scores.tolist(), strict=True):
            out[i] = p if self.output == "cost" else 1.0 - 2.0 * p
        return out


@dataclass
class RefitState:
    """What an adaptive reward has learned so far (mutable; one per reward object)."""

    model: LogisticModel
    x: np.ndarray
    y: np.ndarray
    labels_used: int
    """Gold labels spent: the starting head's budget plus every relabelled rollout."""
    refits: int = 0


@dataclass(frozen=True)
class AdaptiveLearnedSafetyReward(LearnedSafetyReward):
    """`learned_safety` refitted during training (iterated RLHF): every `every` optimizer steps
    it buys `labels_per_refit` gold labels on the current rollouts (the policy's fresh samples),
    adds them to its labelled pool and refits the head; logs `learned/labels_used` and
    `learned/refits`. Needs SafetyWorld prompt columns (the gold judge of `world_seed` reads
    them). Each process refits on its own rollouts, and `--resume` restarts from the starting
    head (`path`, or the cached fit of `labels`)."""

    name: ClassVar[str] = "learned_safety_adaptive"
    every: int = 10
    """Refit every this many optimizer steps."""
    labels_per_refit: int = 32
    """Gold labels bought from the rollouts at each refit (the adaptive label budget)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.every < 1 or self.labels_per_refit < 1:
            raise HarmlabError("learned_safety_adaptive: every and labels_per_refit must be >= 1")

    @cached_property
    def state(self) -> RefitState:
        model, info = self.fitted
        x, y = load_labels(self.folder)
        return RefitState(model, x, y, int(info["labels"]))

    @property
    def labels_used(self) -> int:
        """Gold labels spent so far: the starting head's and every refit's."""
        return self.state.labels_used

    def metrics(self) -> dict[str, float]:
        """Labels spent and refits so far (a refitted head's agreement is not re-measured)."""
        return {
            "learned/labels_used": float(self.labels_used),
            "learned/refits": float(self.state.refits),
        }

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        trainer_state = kwargs.get("trainer_state")
        step = int(getattr(trainer_state, "global_step", 0))
        if step >= (self.state.refits + 1) * self.every:
            self.refit(completions, kwargs)
        return super().__call__(prompts, completions, **kwargs)  # logs `metrics()`

    @property
    def head(self) -> tuple[LogisticModel, Span]:
        return self.state.model, self.span

    @property
    def span(self) -> Span:
        span: Span = self.fitted[1].get("span", "answer")
        return span

    def refit(self, completions: Sequence[Text], columns: dict[str, Any]) -> None:
        """Label up to `labels_per_refit` judged rollouts with gold, add them, refit the head."""
        category = self.held_out_category or DEFAULT_HELD_OUT_CATEGORY
        world = SafetyWorld(self.world_seed, held_out_category=category)
        labelled: list[tuple[str, bool]] = []
        for completion, row in zip(completions, rows(columns, len(completions)), strict=True):
            if len(labelled) == self.labels_per_refit:
                break
            if is_missing(row.get("family")) or row["family"] not in self.families:
                continue
            text = completion_text(completion)
            harmful = world.judge.judge(WorldPrompt.from_columns(row), text).harmful
            labelled.append((span_text(text, self.span), harmful))
        state = self.state
        state.refits += 1
        if not labelled:
            return
        x = features([t for t, _ in labelled])
        state.x = np.concatenate([state.x, x.astype(state.x.dtype)])
        state.y = np.concatenate([state.y, np.array([h for _, h in labelled], dtype=state.y.dtype)])
        state.labels_used += len(labelled)
        state.model = fit_head(state.x, state.y)
