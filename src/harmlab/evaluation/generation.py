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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from harmlab.reasoning_format import split_response


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled."""

    n: int = 1
    """Completions per prompt."""
    temperature: float = 1.0
    """Softmax temperature; 0 means greedy decoding."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    max_new_tokens: int = 160
    """Longest completion, in tokens."""
    batch_size: int = 32
    """Prompts per forward batch (each expanded to n sequences)."""
    seed: int = 0
    """Seed of the sampler: the same seed gives the same completions."""


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


def render_chat_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str) -> str:
    """The text a model continues from: the user turn and the assistant header."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    return str(rendered)


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
    for text, length in zip(texts, lengths, strict=True):
        parsed = split_response(text)
        think_tokens = len(tokenizer(parsed.think, add_special_tokens=False)["input_ids"])
        rows.append(
            Generation(
                text, parsed.think, parsed.answer, parsed.problems, length, think_tokens, seconds
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
