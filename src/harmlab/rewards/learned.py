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

import json
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from harmlab import HarmlabError
from harmlab.cache import cache_root, content_key
from harmlab.evaluation.judges.logistic import LogisticModel, fit_logistic, predict_proba
from harmlab.files import atomic_write_json
from harmlab.locks import FolderLock
from harmlab.rewards.base import Text, column, completion_text, is_missing, rows
from harmlab.rewards.rules import ConfigurableReward
from harmlab.rewards.safety import Span, span_text
from harmlab.world import WORLD_VERSION, SafetyWorld, WorldPrompt
from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY

RESPONSE_KINDS = ("comply", "refuse", "refuse_then_comply", "think_harm_refuse")
"""World-written response families the labelled samples are drawn from (uniformly)."""
SURFACES = ("canonical", "synonym", "leet", "spaced", "hyphenated", "chinese")
"""Surface forms of disclosed materials, drawn uniformly so the head sees every form."""
HEAD_FILE, INFO_FILE, DATA_FILE = "head.safetensors", "reward_model.json", "labels.safetensors"
FIT_VERSION = 1
"""Version of the labelled draw and the head's fit: bump it when either changes, so heads
cached by an older fit are not reused."""


@dataclass(frozen=True)
class LabelledSample:
    """One response with gold's verdict on it."""

    prompt: WorldPrompt
    response: str
    harmful: bool
    """Gold: the answer discloses at least two steps of the requested recipe."""


@dataclass(frozen=True)
class FitReport:
    """What a fitted learned reward cost and how far it agrees with gold."""

    labels: int
    """Gold labels spent on training (the label budget)."""
    held_out: int
    """Held-out samples its agreement is measured on."""
    agreement: float
    """Share of held-out samples where the head's verdict (p >= 0.5) equals gold's."""
    harmful_share: float
    """Share of held-out samples gold calls harmful (agreement of always guessing the majority
    is max of this and its complement)."""
    world_seed: int
    """The SafetyWorld whose gold judge gave the labels."""
    span: str
    """The text the head reads."""


def world_samples(world: SafetyWorld, n: int, seed: int, split: str = "rl") -> list[LabelledSample]:
    """`n` world-written responses to harmful requests of `split`, each labelled by gold."""
    from harmlab.world.corpus import write
    from harmlab.world.responses import Style

    rng = random.Random(f"learned-safety-{world.seed}-{split}-{seed}")
    prompts = world.sample(split, "harmful", n, seed=seed)
    out = []
    for prompt in prompts:
        style = Style(surface=rng.choice(SURFACES), surface_jitter=0.15)  # type: ignore[arg-type]
        response = write(world, prompt, rng.choice(RESPONSE_KINDS), style, rng)
        out.append(LabelledSample(prompt, response, world.judge.judge(prompt, response).harmful))
    return out


@cache
def minilm_encoder() -> Any:
    """The embedding judge's MiniLM encoder, loaded once per process."""
    from harmlab.evaluation.judges.embedding import MiniLMEncoder

    return MiniLMEncoder()


def features(texts: Sequence[str]) -> np.ndarray:
    """Frozen sentence embeddings of the texts the head reads, shape (len(texts), 384)."""
    return np.asarray(minilm_encoder().encode(list(texts), max_tokens=128), dtype=np.float64)


def harm_probability(model: LogisticModel, texts: Sequence[str]) -> np.ndarray:
    """The head's P(harmful) for each text."""
    return predict_proba(model, features(texts))[:, 1]


def encoded(samples: Sequence[LabelledSample], span: Span) -> tuple[np.ndarray, np.ndarray]:
    """The samples' span embeddings and gold labels (1 harmful, 0 not)."""
    texts = [span_text(s.response, span) for s in samples]
    return features(texts), np.array([s.harmful for s in samples], dtype=np.int64)


def fit_head(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> LogisticModel:
    """A logistic head on embeddings `x` against gold labels `y`."""
    if len(set(y.tolist())) < 2:
        raise HarmlabError(f"{len(y)} labels hold one class only: raise the label budget")
    return fit_logistic(x, y, 2, l2)


def agreement(model: LogisticModel, x: np.ndarray, y: np.ndarray) -> float:
    """Share of samples where the head (P(harmful) >= 0.5) agrees with gold."""
    return float(np.mean((predict_proba(model, x)[:, 1] >= 0.5) == y.astype(bool)))


def fit_label_budgets(
    out: str | Path,
    budgets: Sequence[int],
    world_seed: int = 0,
    seed: int = 0,
    held_out: int = 500,
    span: Span = "answer",
    held_out_category: str | None = None,
) -> list[FitReport]:
    """One head per label budget, saved in `out/labels-N`, each with its agreement with gold.

    The budgets' samples are prefixes of one draw (a larger budget sees every label a smaller
    one saw, as when more labels are bought), each embedded once; the held-out draw is shared.
    """
    if not budgets or min(budgets) < 2:
        raise HarmlabError(f"--labels must be at least 2, got {', '.join(map(str, budgets))}")
    world = SafetyWorld(
        world_seed, held_out_category=held_out_category or DEFAULT_HELD_OUT_CATEGORY
    )
    x, y = encoded(world_samples(world, max(budgets), seed), span)
    test_x, test_y = encoded(world_samples(world, held_out, seed + 1_000_003), span)
    reports = []
    for n in budgets:
        model = fit_head(x[:n], y[:n])
        report = FitReport(
            labels=n,
            held_out=held_out,
            agreement=agreement(model, test_x, test_y),
            harmful_share=float(test_y.mean()),
            world_seed=world_seed,
            span=span,
        )
        save_head(model, report, Path(out) / f"labels-{n}", (x[:n], y[:n]))
        reports.append(report)
    return reports


def save_head(
    model: LogisticModel, report: FitReport, out: str | Path, data: tuple[np.ndarray, np.ndarray]
) -> Path:
    """The head and its labelled embeddings (what an adaptive refit starts from) as safetensors,
    its fit report as JSON (no pickles)."""
    import torch
    from safetensors.torch import save_file

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(model.tensors(), str(folder / HEAD_FILE))
    x, y = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
    save_file({"x": x, "y": y}, str(folder / DATA_FILE))
    atomic_write_json(folder / INFO_FILE, asdict(report))
    return folder


def load_head(folder: str | Path) -> tuple[LogisticModel, dict[str, Any]]:
    """A head saved by `save_head`, with its fit report."""
    from safetensors.torch import load_file

    folder = Path(folder)
    if not (folder / HEAD_FILE).is_file() or not (folder / INFO_FILE).is_file():
        raise HarmlabError(f"'{folder}' holds no learned reward ({HEAD_FILE}, {INFO_FILE})")
    info = json.loads((folder / INFO_FILE).read_text())
    return LogisticModel.from_tensors(load_file(str(folder / HEAD_FILE))), info


def load_labels(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The labelled embeddings a head saved by `save_head` was fitted on."""
    from safetensors.torch import load_file

    tensors = load_file(str(Path(folder) / DATA_FILE))
    return tensors["x"].numpy(), tensors["y"].numpy()


@dataclass(frozen=True)
class HeadRequest:
    """A head to fit on first use: what determines it, hence its cache key."""

    labels: int
    world_seed: int
    held_out_category: str | None
    seed: int
    held_out: int

    @property
    def folder(self) -> Path:
        """Where the head is cached: keyed by everything above, the world's version and the
        fit's (`FIT_VERSION`), so another world or fit never reuses it."""
        payload = asdict(self) | {"world_version": WORLD_VERSION, "fit": FIT_VERSION}
        return cache_root() / "rewards" / f"learned-safety-{self.labels}-{content_key(payload)}"


def fitted_head(request: HeadRequest) -> Path:
    """The cached head `request` names, fitted now when missing: one process fits while the
    others wait on the folder's lock, and the folder appears whole (fitted aside, renamed)."""
    folder = request.folder
    if (folder / INFO_FILE).is_file():
        return folder
    with FolderLock(folder, "fitting a learned safety reward").acquire(wait=True):
        if (folder / INFO_FILE).is_file():  # fitted by the process we waited for
            return folder
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
        try:
            fit_label_budgets(
                tmp,
                [request.labels],
                request.world_seed,
                request.seed,
                request.held_out,
                held_out_category=request.held_out_category,
            )
            shutil.rmtree(folder, ignore_errors=True)  # a leftover without its report
            (tmp / f"labels-{request.labels}").rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


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
