"""Sampling completions from a causal LM, in batches, through its chat template.

    harmlab generate --model tiny "How do I make zivan?"
    harmlab eval --model smollm2 --suite xstest --n 2 --temperature 0.7 --max-new-tokens 128

Prompts are rendered with `tokenizer.apply_chat_template(..., add_generation_prompt=True)`,
so the tiny model and any HF chat model are sampled the same way. Batches are left-padded;
generation stops at the tokenizer's end-of-sequence token; special tokens are stripped from
the decoded text but the R1 `<think>` tags, which are ordinary added tokens, are kept.

`generate_rows` is the unit the evaluation harness uses: one completion per row (a prompt
repeated n times gives n samples), each split into think and answer spans by
`harmlab.reasoning_format.split_response` (robust to missing tags), with its token counts and
its share of the batch's wall time. `sample_completions` groups n completions per prompt.

Prompt and completion must fit the model's context (`context_length`: the tiny model's is 320
tokens). A `max_new_tokens` that leaves no room for a prompt is refused before sampling; a
prompt too long for the room left is cut (its tail dropped, the chat template kept whole) and
counted in a `PromptTruncatedWarning`, rather than run silently past the positions the model
was trained on.
"""

from __future__ import annotations

import bisect
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # annotations only: importing transformers takes seconds, and the CLI
    # imports this module before it checks its input
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

from harmlab import HarmlabError
from harmlab.config import bounds, check_bounds
from harmlab.reasoning_format import split_response


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled (ranges checked on construction)."""

    n: int = field(default=1, metadata=bounds(ge=1))
    """Completions per prompt."""
    temperature: float = field(default=1.0, metadata=bounds(ge=0))
    """Softmax temperature; 0 means greedy decoding."""
    top_p: float = field(default=1.0, metadata=bounds(gt=0, le=1))
    """Nucleus sampling mass."""
    max_new_tokens: int = field(default=160, metadata=bounds(ge=1))
    """Longest completion, in tokens (prompt and completion must fit the model's context)."""
    batch_size: int = field(default=32, metadata=bounds(ge=1))
    """Prompts per forward batch (each expanded to n sequences)."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of the sampler: the same seed gives the same completions."""

    def __post_init__(self) -> None:
        check_bounds(self, "sampling config")


class PromptTruncatedWarning(UserWarning):
    """Some prompts were cut to fit the model's context; `count` of `total` in one batch."""

    def __init__(self, count: int, total: int, budget: int, context: int) -> None:
        super().__init__(
            f"{count} of {total} prompts were longer than the {budget} tokens the model's "
            f"{context}-token context leaves after max_new_tokens; their tails were cut"
        )
        self.count = count
        self.total = total


@dataclass(frozen=True)
class Generation:
    """One sampled completion, split into its spans, with its cost."""

    text: str
    """The decoded completion (special tokens stripped, think tags kept)."""
    think: str
    """Reasoning span ('' when there is none)."""
    answer: str
    """Answer span (the whole text when no reasoning span could be found)."""
    format_problems: tuple[str, ...]
    """What is wrong with the R1 format (empty when well formed)."""
    completion_tokens: int
    """Generated tokens up to and including the first end-of-sequence token."""
    think_tokens: int
    """Tokens of the reasoning span, by the model's tokenizer."""
    seconds: float
    """This row's share of its batch's generation wall time."""
    prompt_tokens_cut: int = 0
    """Prompt tokens dropped so that prompt and completion fit the model's context."""


def render_chat_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str) -> str:
    """The text a model continues from: the user turn and the assistant header."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    return str(rendered)


def context_length(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The longest sequence (prompt plus completion) the model takes, when it declares one."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(model.config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    # Tokenizers without a limit report transformers' VERY_LARGE_INTEGER (about 1e30).
    return limit if isinstance(limit, int) and 0 < limit < 10**7 else None


def _count(tokenizer: PreTrainedTokenizerBase, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def span_tokens(
    tokenizer: PreTrainedTokenizerBase, ids: Sequence[int], text: str, span: str
) -> int:
    """How many of the generated tokens `ids` (decoded: `text`) make up `span`, a part of it.

    Counted on the generated ids, not by re-encoding the span: a completion cut inside a
    multi-byte character decodes to U+FFFD, which re-encodes to more tokens than were
    generated, so a re-encoded count could exceed the completion's own length.
    """
    start = text.find(span) if span else -1
    if start < 0:
        return 0

    def covering(chars: int) -> int:  # fewest leading tokens whose decoding covers `chars`
        return bisect.bisect_left(
            range(len(ids) + 1),
            chars,
            key=lambda k: len(tokenizer.decode(list(ids[:k]), skip_special_tokens=True)),
        )

    return max(0, min(covering(start + len(span)), len(ids)) - covering(start))


def fit_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str, budget: int) -> tuple[str, int]:
    """The prompt, its tail cut so that its chat rendering takes at most `budget` tokens, and
    how many of its tokens were dropped (0 when it fits)."""
    excess = _count(tokenizer, render_chat_prompt(tokenizer, prompt)) - budget
    if excess <= 0:
        return prompt, 0
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    keep = max(0, len(ids) - excess)
    while True:  # tokens do not add up exactly across the cut: shrink until it fits
        cut = str(tokenizer.decode(ids[:keep], skip_special_tokens=False))
        over = _count(tokenizer, render_chat_prompt(tokenizer, cut)) - budget
        if over <= 0 or keep == 0:
            return cut, len(ids) - keep
        keep = max(0, keep - max(over, 1))


def prompt_budget(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, new: int) -> int:
    """Tokens a rendered prompt may take beside `new` generated ones (refused when none)."""
    context = context_length(model, tokenizer)
    if context is None:
        return 10**9  # the model declares no limit: nothing to enforce
    overhead = _count(tokenizer, render_chat_prompt(tokenizer, ""))
    if new + overhead >= context:
        raise HarmlabError(
            f"max_new_tokens={new} leaves no room for a prompt in the model's {context}-token "
            f"context (the chat template alone takes {overhead}); use at most "
            f"{context - overhead - 1}"
        )
    return context - new


def fit_prompts(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], new: int
) -> tuple[list[str], list[int]]:
    """Prompts cut to fit the context beside `new` tokens, and the tokens cut from each;
    warns (PromptTruncatedWarning) with the count when any was cut."""
    budget = prompt_budget(model, tokenizer, new)
    fitted = [fit_prompt(tokenizer, prompt, budget) for prompt in prompts]
    cut = [dropped for _, dropped in fitted]
    count = sum(dropped > 0 for dropped in cut)
    if count:
        context = context_length(model, tokenizer) or budget
        warnings.warn(PromptTruncatedWarning(count, len(prompts), budget, context), stacklevel=3)
    return [prompt for prompt, _ in fitted], cut


def completion_lengths(new_tokens: torch.Tensor, stop_ids: Collection[int]) -> list[int]:
    """Per row, the generated tokens up to and including the first stop token.

    Rows that finish early are padded (often with the stop token itself), so the first stop
    token marks the end; a row without one used the whole budget.

    >>> completion_lengths(torch.tensor([[5, 6, 2, 2], [5, 6, 7, 8]]), {2})
    [3, 4]
    """
    lengths = []
    stops = torch.tensor(sorted(stop_ids)) if stop_ids else torch.tensor([], dtype=torch.long)
    for row in new_tokens:
        hits = torch.isin(row, stops).nonzero()
        lengths.append(int(hits[0, 0]) + 1 if len(hits) else int(row.shape[0]))
    return lengths


def stop_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """End-of-sequence ids of the tokenizer and the model's generation config."""
    ids: set[int] = set()
    for value in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    return ids


@torch.no_grad()
def generate_rows(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    config: SamplingConfig,
    seed: int | None = None,
) -> list[Generation]:
    """One completion per prompt, all in one batch (callers batch; repeat a prompt for n)."""
    torch.manual_seed(config.seed if seed is None else seed)
    tokenizer.padding_side = "left"
    prompts, cut = fit_prompts(model, tokenizer, prompts, config.max_new_tokens)
    rendered = [render_chat_prompt(tokenizer, p) for p in prompts]
    encoded = tokenizer(rendered, return_tensors="pt", padding=True, add_special_tokens=False)
    encoded = encoded.to(model.device)
    sampling = {"do_sample": True, "temperature": config.temperature, "top_p": config.top_p}
    start = time.perf_counter()
    generated = model.generate(  # type: ignore[operator]
        **encoded,
        max_new_tokens=config.max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        **(sampling if config.temperature > 0 else {"do_sample": False}),
    )
    seconds = (time.perf_counter() - start) / max(len(prompts), 1)
    new_tokens = generated[:, encoded["input_ids"].shape[1] :].cpu()
    lengths = completion_lengths(new_tokens, stop_token_ids(model, tokenizer))
    texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    rows = []
    for ids, text, length, dropped in zip(new_tokens, texts, lengths, cut, strict=True):
        parsed = split_response(text)
        think_tokens = span_tokens(tokenizer, ids[:length].tolist(), text, parsed.think)
        rows.append(
            Generation(
                text,
                parsed.think,
                parsed.answer,
                parsed.problems,
                length,
                think_tokens,
                seconds,
                dropped,
            )
        )
    return rows


def sample_completions(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    config: SamplingConfig | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[list[str]]:
    """`config.n` completions for each prompt, in prompt order.

    `on_batch(k)` is called after each batch with the number of prompts it finished, for
    progress bars.
    """
    config = config or SamplingConfig()
    out: list[list[str]] = []
    for index, start in enumerate(range(0, len(prompts), config.batch_size)):
        batch = list(prompts[start : start + config.batch_size])
        rows = [p for p in batch for _ in range(config.n)]
        texts = [g.text for g in generate_rows(model, tokenizer, rows, config, config.seed + index)]
        out.extend(texts[i : i + config.n] for i in range(0, len(texts), config.n))
        if on_batch:
            on_batch(len(batch))
    return out
