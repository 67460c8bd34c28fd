"""Verdicts per second of every judge on this machine (a benchmark, not a test).

    .venv/bin/python benchmarks/judges.py                      # SafetyWorld transcripts only
    HARMLAB_DATA_DIR=../shared/data .venv/bin/python benchmarks/judges.py --embedding

A verdict is one judged completion (its reasoning span and its answer span). Transcripts are
SafetyWorld prompts answered by the base behaviour (compliance, refusals, reasoning), so every
judge, gold included, reads the same texts. Figures are printed against the refusal-string
judge measured in the same run, the cheapest reference. The guard judge runs a tiny randomly
initialised Llama in the Llama Guard 3 format: it measures the format's prompt-building,
batching and parsing overhead plus a small model's forward passes, not a real 8B guard model.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from harmlab.data.records import record_from_world
from harmlab.evaluation.judges import Judge, Transcript, make_judge
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="transcripts per judge")
    parser.add_argument("--embedding", action="store_true", help="also the embedding judge")
    parser.add_argument("--guard-n", type=int, default=64, help="transcripts for the guard judge")
    args = parser.parse_args()
    torch.set_num_threads(2)
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
