"""Fitting learned safety heads: labelled world samples, a logistic head on MiniLM features per
label budget, saved and loaded, and fitted once on first use into the cache.

    harmlab reward fit --labels 100,1000,10000 --out runs/rm   # `fit_label_budgets`
    rewards: [{name: learned_safety, params: {labels: 1000}}]  # `fitted_head`, then cached

`harmlab.rewards.learned` turns a fitted head into a reward or a cost; the method and its
departures from Gao et al. are described there.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from harmlab import HarmlabError
from harmlab.cache import cache_root, content_key
from harmlab.evaluation.judges.logistic import LogisticModel, fit_logistic, predict_proba
from harmlab.files import atomic_write_json
from harmlab.locks import FolderLock
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
