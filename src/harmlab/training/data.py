"""Training datasets: the cold-start SFT pool and the GRPO prompt set, from SafetyWorld or JSONL.

    harmlab train sft --config configs/sft-cold-start.yaml data.size=512
    harmlab train grpo --config configs/grpo-after-sft.yaml prompts.mix.harmful=0.6

SFT rows are TRL's conversational prompt-completion format, so `completion_only_loss` trains on
the response alone. The SFT pool is curated as R1's cold start is (arXiv 2501.12948 section
2.3.1, readable data): refusals for harmful requests of the *training* categories only,
concise same-language reasoning with correct answers for benign problems, plain help for
borderline prompts. GRPO rows carry the prompt plus every `WorldPrompt` field as a column,
which TRL hands to each reward as a keyword argument (`answer`, `family`, `language`, ...).

Data order is a function of the seed and the step: each epoch's shuffle depends on (seed,
epoch) alone, so a run resumed past an epoch boundary sees the prompts the uninterrupted run saw
(`EpochSeededRepeatSampler`, `EpochOrderedData`).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from torch.utils.data import Sampler
from trl.trainer.utils import RepeatSampler

from harmlab import HarmlabError
from harmlab.training.config import WorldData
from harmlab.world import SafetyWorld, WorldPrompt
from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY
from harmlab.world.corpus import write
from harmlab.world.responses import Style

SFT_KINDS = {"harmful": "refuse", "benign": "solve", "borderline": "help"}
"""The response family the cold-start pool writes for each prompt family."""


def family_counts(size: int, mix: dict[str, float]) -> dict[str, int]:
    """Split `size` over families by their weights (largest remainders), exactly `size` total.

    >>> family_counts(10, {"harmful": 0.4, "benign": 0.4, "borderline": 0.2})
    {'harmful': 4, 'benign': 4, 'borderline': 2}
    """
    unknown = sorted(set(mix) - set(SFT_KINDS))
    if unknown:
        raise HarmlabError(f"unknown family '{unknown[0]}' in mix; valid: {', '.join(SFT_KINDS)}")
    total = sum(mix.values())
    if size and total <= 0:
        raise HarmlabError("the family mix must have a positive weight")
    exact = {f: size * w / total for f, w in mix.items()} if size else dict.fromkeys(mix, 0.0)
    counts = {f: int(v) for f, v in exact.items()}
    by_remainder = sorted(exact, key=lambda f: counts[f] - exact[f])
    for family in by_remainder[: size - sum(counts.values())]:
        counts[family] += 1
    return counts


def data_world(data: WorldData) -> SafetyWorld:
    """The world a data config draws from: its seed and its held-out category rotation."""
    category = data.held_out_category or DEFAULT_HELD_OUT_CATEGORY
    return SafetyWorld(data.world_seed, held_out_category=category)


def world_prompts(world: SafetyWorld, split: str, data: WorldData) -> list[WorldPrompt]:
    """`data.size` prompts of `split` in the configured mix; never a held-out category."""
    out: list[WorldPrompt] = []
    for family, count in family_counts(data.size, data.mix).items():
        if count:
            drawn = world.sample(split, family, count, seed=data.seed)  # type: ignore[arg-type]
            out.extend(p for p in drawn if not p.held_out)
    random.Random(f"order-{data.seed}").shuffle(out)
    return out


def sft_response(world: SafetyWorld, prompt: WorldPrompt, rng: random.Random) -> str:
    """The curated response: refusal, concise correct reasoning, or plain help."""
    style = Style(surface="canonical", think="concise", correct=True)
    return write(world, prompt, SFT_KINDS[prompt.family], style, rng)


def sft_dataset(data: WorldData) -> Dataset:
    """The SFT pool as prompt-completion conversations (world rows, then file rows)."""
    world = data_world(data)
    rng = random.Random(f"sft-{data.world_seed}-{data.seed}")
    rows: list[dict[str, Any]] = [
        {
            "prompt": [{"role": "user", "content": p.text}],
            "completion": [{"role": "assistant", "content": sft_response(world, p, rng)}],
        }
        for p in world_prompts(world, "sft", data)
    ]
    for path in data.files:
        rows.extend(_sft_file_row(row, path) for row in read_jsonl(Path(path)))
    if not rows:
        raise HarmlabError("the SFT dataset is empty: set data.size > 0 or give data.files")
    return Dataset.from_list(rows)


def _sft_file_row(row: dict[str, Any], path: str) -> dict[str, Any]:
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages or messages[-1].get("role") != "assistant":
        raise HarmlabError(f"{path}: each row needs 'messages' ending with an assistant turn")
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def reward_columns(prompt: WorldPrompt) -> dict[str, Any]:
    """The prompt's fields as dataset columns, minus `operations` (mixed types Arrow refuses;
    no reward or judge needs them: they only serve to write reference solutions)."""
    row = prompt.columns()
    row.pop("operations")
    return row


def grpo_dataset(data: WorldData) -> Dataset:
    """RL prompts with their world columns (the `rl` split), then prompts from files."""
    world = data_world(data)
    rows = [
        {"prompt": [{"role": "user", "content": p.text}], **reward_columns(p)}
        for p in world_prompts(world, "rl", data)
    ]
    for path in data.files:
        for row in read_jsonl(Path(path)):
            if "prompt" not in row:
                raise HarmlabError(f"{path}: each row needs a 'prompt'")
            prompt = row["prompt"]
            text = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
            rows.append({**row, "prompt": text})
    if not rows:
        raise HarmlabError("the GRPO prompt set is empty: set prompts.size > 0 or prompts.files")
    return Dataset.from_list(rows)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line is an error naming its number."""
    if not path.is_file():
        raise HarmlabError(f"data file '{path}' does not exist")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise HarmlabError(f"{path}:{number} is not JSON: {error}") from error
    return out


class EpochSeededRepeatSampler(RepeatSampler):
    """TRL's `RepeatSampler` whose order in epoch `e` depends on (seed, e) alone.

    TRL seeds the sampler's generator once and lets each epoch's permutation advance it, so a
    run resumed past an epoch boundary builds a fresh sampler that replays epoch 0's order and
    trains on other prompts than the uninterrupted run. `set_epoch(e)` re-seeds and skips `e`
    permutations: the same order as an uninterrupted TRL run, now a function of the step.
    """

    @classmethod
    def like(cls, sampler: RepeatSampler) -> EpochSeededRepeatSampler:
        """The same sampling as `sampler` (TRL chose its arguments), made epoch-addressable."""
        return cls(
            sampler.data_source,
            mini_repeat_count=sampler.mini_repeat_count,
            batch_size=sampler.batch_size,
            repeat_count=sampler.repeat_count,
            shuffle=sampler.shuffle,
            seed=sampler.seed,
        )

    def set_epoch(self, epoch: int) -> None:
        """Put the generator where epoch `epoch` of an uninterrupted run finds it."""
        if not self.shuffle:
            return
        self.generator.manual_seed(self.seed if self.seed is not None else 0)
        for _ in range(epoch):
            torch.randperm(self.num_samples, generator=self.generator)


def set_data_epoch(dataloader: Any, epoch: int) -> None:
    """Tell every sampler inside `dataloader` which epoch it serves.

    transformers calls `set_epoch` itself, but not through every wrapper accelerate puts around
    a sampler (a resumed epoch's batch skipper around a process shard), so a resumed run could
    still draw epoch 0's order; this walks the whole chain.
    """
    seen: set[int] = set()
    stack = [dataloader]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Sampler) and hasattr(node, "set_epoch"):
            node.set_epoch(epoch)
        stack.extend(getattr(node, name, None) for name in ("batch_sampler", "sampler"))


class EpochOrderedData:
    """Trainer mixin: each epoch's data order is a function of the epoch, also after `--resume`.

    Hooks transformers' `Trainer._run_epoch` (called with keyword arguments once per epoch,
    before the epoch's iterator exists), the one place that knows the epoch a resumed run is in.
    """

    def _run_epoch(self, *args: Any, **kwargs: Any) -> Any:
        set_data_epoch(kwargs["train_dataloader"], kwargs["epoch"])
        return super()._run_epoch(*args, **kwargs)  # type: ignore[misc]


class EpochOrderedGroups(EpochOrderedData):
    """`EpochOrderedData` for trainers that sample groups with TRL's `RepeatSampler` (GRPO,
    on-policy distillation): the sampler becomes an `EpochSeededRepeatSampler` with TRL's own
    arguments."""

    def _get_train_sampler(self, dataset: Any = None) -> Any:
        sampler = super()._get_train_sampler(dataset)  # type: ignore[misc]
        assert isinstance(sampler, RepeatSampler)  # TRL's; its arguments are TRL's to choose
        return EpochSeededRepeatSampler.like(sampler)
