"""Verdicts per second of every judge on this machine (a benchmark, not a test).

    .venv/bin/python benchmarks/judges.py                      # SafetyWorld transcripts only
    HARMLAB_DATA_DIR=../shared/data .venv/bin/python benchmarks/judges.py --embedding

A verdict is one judged completion (its reasoning span and its answer span). Transcripts are
SafetyWorld prompts answered by the base behaviour (compliance, refusals, reasoning), so every
judge, gold included, reads the same texts. Figures are printed against the refusal-string
judge measured in the same run, the cheapest reference. The guard judge runs a tiny randomly
initialised Llama in the Llama Guard 3 format: it measures the format's prompt-building,
batching and parsing overhead plus a small model's forward passes, not a real 8B guard model.

With --embedding it also times the embedding judge on XSTest's human-labelled completions (the
lengths it was validated on; their token counts are printed) against its pre-issue-14 path,
re-enacted here as the reference: one encoder call per span kind, batches of 64 texts sorted by
characters, the rest read to 64 tokens, nothing remembered. The two alternate for --rounds
rounds, each from a cold encoder cache, and the ratio is taken within the run, since this
machine is shared and its speed drifts.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import harmlab  # noqa: F401  (sets OMP_WAIT_POLICY before torch loads OpenMP, as harmlab does)

# isort: split
import numpy as np
import torch

from harmlab.data.records import record_from_world
from harmlab.evaluation.judges import Judge, Transcript, make_judge
from harmlab.evaluation.judges.embedding import (
    EmbeddingJudge,
    MiniLMEncoder,
    first_sentence,
    judge_features,
    off_prompt,
)
from harmlab.evaluation.judges.strings import REFUSAL_LISTS, matched_phrase
from harmlab.world import BaseBehaviour, SafetyWorld
from harmlab.world.corpus import write


def world_transcripts(n: int, seed: int = 0) -> list[Transcript]:
    """`n` SafetyWorld prompts from the test splits, each with a base-model-style response."""
    world, rng, behaviour = SafetyWorld(0), random.Random(seed), BaseBehaviour()
    prompts = (
        world.sample("test", "harmful", n // 2, seed=seed)
        + world.sample("borderline_test", "borderline", n // 4, seed=seed)
        + world.sample("test", "benign", n - n // 2 - n // 4, seed=seed)
    )
    return [
        Transcript.of(
            record_from_world(p, "bench"),
            write(world, p, behaviour.kind(p, rng), behaviour.style(p, rng), rng),
        )
        for p in prompts
    ]


def verdicts_per_second(judge: Judge, transcripts: Sequence[Transcript], batch: int = 64) -> float:
    """Judge every transcript once, in batches; one warm-up batch is not timed."""
    judge.judge(transcripts[:batch])
    start = time.perf_counter()
    for i in range(0, len(transcripts), batch):
        judge.judge(transcripts[i : i + batch])
    return len(transcripts) / (time.perf_counter() - start)


def tiny_guard_judge(folder: Path, texts: Sequence[str]) -> Judge:
    """A Llama Guard 3 judge on a randomly initialised micro Llama (built in `folder`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    from harmlab.evaluation.judges.guard import GUARD_FORMATS, GuardJudge, hf_guard_completer
    from harmlab.models.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(texts, vocab_size=1024)
    tokenizer.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
    )  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).eval()
    guard_format = GUARD_FORMATS["llama-guard-3"]
    return GuardJudge(
        guard_format, hf_guard_completer(model, tokenizer, guard_format.max_new_tokens)
    )


def xstest_transcripts(n: int) -> list[Transcript]:
    """`n` of XSTest's labelled completions, evenly spaced over the three models' files."""
    from harmlab.data.suites import xstest_completions

    items = xstest_completions(None).items
    step = max(len(items) // n, 1)
    return [Transcript.of(i.prompt, i.completion) for i in items[::step][:n]]


def legacy_encode(encoder: MiniLMEncoder, texts: Sequence[str], max_tokens: int) -> np.ndarray:
    """`MiniLMEncoder.encode` before issue 14: batches of 64 texts sorted by characters."""
    unique = list(dict.fromkeys(texts))
    order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
    vectors = np.zeros((len(unique), encoder.model.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(order), 64):
            chosen = order[start : start + 64]
            batch = encoder.tokenizer(
                [unique[i] for i in chosen], padding=True, truncation=True,
                max_length=max_tokens, return_tensors="pt",
            )  # fmt: skip
            hidden = encoder.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors[chosen] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    index = {text: i for i, text in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


def legacy_classify(judge: EmbeddingJudge, prompts: Sequence[str], texts: Sequence[str]) -> None:
    """The pre-issue-14 features (each span kind its own encoder call), then the same head."""
    stripped = [t.strip() for t in texts]
    firsts = [first_sentence(t) for t in stripped]
    rests = [t[len(f) :].strip() for t, f in zip(stripped, firsts, strict=True)]
    rule = np.array([[matched_phrase(t, REFUSAL_LISTS["xstest"]) is not None] for t in texts])
    prompt_vectors = legacy_encode(judge.encoder, prompts, 64)
    parts = [off_prompt(legacy_encode(judge.encoder, x, 64), prompt_vectors)
             for x in (stripped, firsts, rests)]  # fmt: skip
    judge_features(judge.head, np.hstack([rule.astype(np.float32), *parts]))


def legacy_judge(judge: EmbeddingJudge, transcripts: Sequence[Transcript]) -> None:
    """The old `EmbeddingJudge.judge`: answers, then reasoning spans, in two calls."""
    legacy_classify(judge, [t.prompt.text for t in transcripts], [t.answer for t in transcripts])
    thinking = [t for t in transcripts if t.think.strip()]
    if thinking:
        legacy_classify(judge, [t.prompt.text for t in thinking], [t.think for t in thinking])


def timed_pass(
    judge_batch: Callable[[Sequence[Transcript]], object],
    transcripts: Sequence[Transcript],
    batch: int = 64,
) -> tuple[float, float]:
    """Wall and process CPU seconds to judge every transcript once, in batches of `batch`."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(transcripts), batch):
        judge_batch(transcripts[i : i + batch])
    return time.perf_counter() - wall, time.process_time() - cpu


def encoder_tokens(model: torch.nn.Module) -> list[int]:
    """A list that grows by the token count (padding included) of each forward pass."""
    counts: list[int] = []
    model.register_forward_pre_hook(
        lambda _, args, kwargs: counts.append(kwargs["input_ids"].numel()), with_kwargs=True
    )
    return counts


def embedding_speedup(n: int, rounds: int) -> None:
    """Old and new embedding judge paths on XSTest completions, alternated, cold each time.

    Wall-clock rates are what a user sees; the CPU-time ratio is steadier on a shared machine.
    """
    judge = make_judge("embedding")
    assert isinstance(judge, EmbeddingJudge)
    transcripts = xstest_transcripts(n)
    n = len(transcripts)
    lengths = np.array([len(judge.encoder.tokenizer(t.answer)["input_ids"]) for t in transcripts])
    print(f"{n} XSTest completions: tokens median {np.median(lengths):.0f}, "
          f"mean {lengths.mean():.0f}, p90 {np.percentile(lengths, 90):.0f}, "
          f"{(lengths > 64).mean():.0%} longer than 64")  # fmt: skip
    legacy_judge(judge, transcripts[:8])  # warm-up (first forward passes are slower)
    judge.judge(transcripts[:8])
    tokens = encoder_tokens(judge.encoder.model)
    print(f"{'round':>5s} {'old verdicts/s':>15s} {'new verdicts/s':>15s} {'wall new/old':>13s} "
          f"{'CPU new/old':>12s} {'encoder tokens/verdict old, new':>32s}")  # fmt: skip
    totals = np.zeros((2, 2))  # (old, new) x (wall, cpu)
    for round_ in range(rounds):
        tokens.clear()
        old = timed_pass(lambda b: legacy_judge(judge, b), transcripts)
        old_tokens = sum(tokens) / n
        tokens.clear()
        judge.encoder.forget()  # cold: nothing remembered from the warm-up or earlier rounds
        new = timed_pass(judge.judge, transcripts)
        totals += [old, new]
        print(f"{round_:5d} {n / old[0]:15.1f} {n / new[0]:15.1f} {old[0] / new[0]:12.2f}x "
              f"{old[1] / new[1]:11.2f}x {old_tokens:24.0f}, {sum(tokens) / n:.0f}")  # fmt: skip
    (old_wall, old_cpu), (new_wall, new_cpu) = totals
    print(f"{'all':>5s} {n * rounds / old_wall:15.1f} {n * rounds / new_wall:15.1f} "
          f"{old_wall / new_wall:12.2f}x {old_cpu / new_cpu:11.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="transcripts per judge")
    parser.add_argument("--embedding", action="store_true", help="also the embedding judge")
    parser.add_argument("--guard-n", type=int, default=64, help="transcripts for the guard judge")
    parser.add_argument("--xstest-n", type=int, default=450, help="XSTest completions timed")
    parser.add_argument("--rounds", type=int, default=2, help="old/new alternations on XSTest")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.embedding:
        embedding_speedup(args.xstest_n, args.rounds)
    transcripts = world_transcripts(args.n)
    specs = ["refusal-string", "refusal-string:gcg", "refusal-string:advbench", "gold"]
    specs += ["embedding"] if args.embedding else []
    rates = {}
    for spec in specs:
        rates[spec] = verdicts_per_second(make_judge(spec), transcripts)
    with tempfile.TemporaryDirectory() as folder:
        rates["llama-guard (tiny random)"] = verdicts_per_second(
            tiny_guard_judge(Path(folder), [t.completion for t in transcripts]),
            transcripts[: args.guard_n],
            batch=16,
        )
    reference = rates["refusal-string"]
    thinking = sum(bool(t.think) for t in transcripts) / len(transcripts)
    print(f"{len(transcripts)} SafetyWorld transcripts ({thinking:.0%} with a reasoning span)")
    print(f"{'judge':28s} {'verdicts/s':>12s} {'vs refusal-string':>18s}")
    for spec, rate in rates.items():
        print(f"{spec:28s} {rate:12.1f} {rate / reference:17.4f}x")


if __name__ == "__main__":
    main()
