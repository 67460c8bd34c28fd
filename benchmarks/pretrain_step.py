"""Pretraining cost of the tiny model: model FLOP/s against this machine's matmul peak.

    .venv/bin/python benchmarks/pretrain_step.py                       # every candidate, fp32
    .venv/bin/python benchmarks/pretrain_step.py --candidates default --bf16
    .venv/bin/python benchmarks/pretrain_step.py --threads 1 --steps 6
    .venv/bin/python benchmarks/pretrain_step.py --phases --candidates default

For each candidate config it times optimizer steps (forward, backward, clip, AdamW) on random
token blocks of the configured batch shape and prints tokens/s, achieved model FLOP/s
(`training_flops_per_token`: 6N plus attention) and the utilisation of a large float32 (or
bfloat16) matmul measured in the same run, so the figures compare across loaded or different
CPUs. "est. s" is the whole pretraining run, steps x batch x seq_len tokens at that rate
(tokenizing the corpus adds a few seconds). With `--bf16` every candidate is also timed under
bfloat16 autocast, against the bf16 matmul: `TinyModelConfig.bf16_autocast` is off by default
because on this project's 2-core Xeon autocast made a step slower, not faster.

With `--phases` it first times what a pretraining run does besides its steps, on the default
world's full corpus (building it, rendering the chat texts, training the tokenizer, tokenizing,
packing), so the profile says where a run's time goes: the steps, at more than 95% of it.

harmlab sets `OMP_WAIT_POLICY=PASSIVE` on import (`harmlab/__init__.py`), which this script
does before torch loads OpenMP. `--compare-wait-policy` times the candidates in child processes
with that setting and with OpenMP's default (spin, then sleep), alternated twice in one run: on
a shared CPU the default's spinning threads wait for descheduled ones at every operation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace

import harmlab  # noqa: F401  (sets OMP_WAIT_POLICY before torch loads OpenMP)

# isort: split
import torch

from harmlab.models.tiny import _optimizer, build_model
from harmlab.models.tiny_config import TinyModelConfig, training_flops_per_token
from harmlab.models.tokenizer import train_tokenizer
from harmlab.world import SafetyWorld

DEFAULT = TinyModelConfig()
CANDIDATES = {
    "default": DEFAULT,
    "seq128": replace(DEFAULT, seq_len=128, batch_size=32),
    "narrow": replace(DEFAULT, hidden_size=128, intermediate_size=352),
    "shallow": replace(DEFAULT, num_layers=3),
    "small": replace(DEFAULT, hidden_size=128, num_layers=3, intermediate_size=352),
    "small-b8": replace(
        DEFAULT, hidden_size=128, num_layers=3, intermediate_size=352, batch_size=8, steps=700
    ),
    "student": replace(DEFAULT, hidden_size=96, num_layers=2, num_heads=2, num_kv_heads=2),
}
"""Shapes worth timing. A schedule (steps, batch) changes the run's tokens ("est. s"); a smaller
batch also lowers the step's arithmetic intensity, so it is timed as its own candidate."""


@dataclass(frozen=True)
class StepTiming:
    """One candidate in one precision."""

    seconds_per_step: float
    tokens_per_second: float
    flops_per_second: float


def matmul_flops_per_second(size: int, dtype: torch.dtype, repeats: int) -> float:
    """Median FLOP/s of a size x size matmul: the reference peak for utilisation."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times[1:])


def time_steps(cfg: TinyModelConfig, bf16: bool, steps: int, warmup: int) -> StepTiming:
    """Median wall time of one pretraining step of `cfg` on random blocks."""
    texts = [p.text for p in SafetyWorld(0).sample("pretrain", "benign", 200)]
    tokenizer = train_tokenizer(texts, cfg.vocab_size, model_max_length=cfg.max_position)
    torch.manual_seed(0)
    model = build_model(cfg, tokenizer)
    model.resize_token_embeddings(cfg.vocab_size, mean_resizing=False)  # the full corpus's size
    optimizer = _optimizer(model, cfg)
    times = []
    for _ in range(warmup + steps):
        batch = torch.randint(0, cfg.vocab_size, (cfg.batch_size, cfg.seq_len))
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times[warmup:])
    tokens_per_second = cfg.batch_size * cfg.seq_len / seconds
    return StepTiming(seconds, tokens_per_second, tokens_per_second * training_flops_per_token(cfg))


def time_phases(cfg: TinyModelConfig) -> dict[str, float]:
    """Seconds of each step of `models.tiny._pretrain` before training, on the real corpus."""
    from harmlab.models.chat import render_conversation
    from harmlab.models.tiny import end_token_id, pack_token_stream
    from harmlab.world import pretrain_conversations

    seconds: dict[str, float] = {}
    start = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal start
        seconds[name] = time.perf_counter() - start
        start = time.perf_counter()

    conversations = pretrain_conversations(SafetyWorld(0), cfg.corpus_size, seed=cfg.seed)
    lap("build corpus")
    texts = [render_conversation(prompt, response) for prompt, response in conversations]
    lap("render chat texts")
    tokenizer = train_tokenizer(texts, cfg.vocab_size, model_max_length=cfg.max_position)
    lap("train tokenizer")
    token_ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    lap("tokenize")
    pack_token_stream(token_ids, cfg.seq_len, end_token_id(tokenizer))
    lap("pack blocks")
    return seconds


def compare_wait_policies(argv: list[str], rounds: int = 2) -> None:
    """This benchmark's table under OpenMP's default wait policy and under PASSIVE, alternated."""
    args = [a for a in argv if a not in ("--compare-wait-policy", "--phases")]
    for _ in range(rounds):
        for policy in ("", "PASSIVE"):  # empty: OpenMP's default (harmlab keeps an exported value)
            result = subprocess.run(
                [sys.executable, __file__, *args],
                env=os.environ | {"OMP_WAIT_POLICY": policy},
                capture_output=True,
                text=True,
                check=True,
            )
            for line in result.stdout.splitlines()[2:]:
                print(f"{policy or 'default':>7} {line}")


def describe(cfg: TinyModelConfig) -> str:
    """The shape and schedule of a candidate, in one short line."""
    return (
        f"h{cfg.hidden_size} L{cfg.num_layers} ff{cfg.intermediate_size} "
        f"{cfg.batch_size}x{cfg.seq_len} {cfg.steps} steps"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", choices=sorted(CANDIDATES), default=None)
    parser.add_argument("--steps", type=int, default=8, help="Measured steps per candidate.")
    parser.add_argument("--warmup", type=int, default=2, help="Unmeasured first steps.")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default).")
    parser.add_argument("--bf16", action="store_true", help="Also time bfloat16 autocast.")
    parser.add_argument("--matmul", type=int, default=2048, help="Reference matmul size.")
    parser.add_argument("--phases", action="store_true", help="Also time the non-step phases.")
    parser.add_argument(
        "--compare-wait-policy",
        action="store_true",
        help="Time under OpenMP's default wait policy and PASSIVE, alternated (child processes).",
    )
    args = parser.parse_args()
    if args.compare_wait_policy:
        compare_wait_policies(sys.argv[1:])
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.phases:
        phases = time_phases(DEFAULT)
        print("before the first step: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
        print(f"  in all {sum(phases.values()):.1f} s")
    precisions = {"fp32": torch.float32} | ({"bf16": torch.bfloat16} if args.bf16 else {})
    peaks = {name: matmul_flops_per_second(args.matmul, dt, 5) for name, dt in precisions.items()}
    print(
        f"{torch.get_num_threads()} threads, AVX512-BF16: {torch.cpu._is_avx512_bf16_supported()},"
        f" median of {args.steps} steps after {args.warmup}; {args.matmul}^2 matmul: "
        + ", ".join(f"{name} {peak / 1e9:.0f} GFLOP/s" for name, peak in peaks.items())
    )
    header = f"{'candidate':>9} {'prec':>4} {'MFLOP/tok':>9} {'s/step':>7} {'tok/s':>7}"
    print(header + f" {'GFLOP/s':>7} {'util':>5} {'est. s':>6}  shape")
    for name in args.candidates or list(CANDIDATES):
        cfg = CANDIDATES[name]
        for precision in precisions:
            timing = time_steps(cfg, precision == "bf16", args.steps, args.warmup)
            run_tokens = cfg.steps * cfg.batch_size * cfg.seq_len
            print(
                f"{name:>9} {precision:>4} {training_flops_per_token(cfg) / 1e6:9.2f}"
                f" {timing.seconds_per_step:7.3f} {timing.tokens_per_second:7,.0f}"
                f" {timing.flops_per_second / 1e9:7.1f}"
                f" {timing.flops_per_second / peaks[precision]:5.0%}"
                f" {run_tokens / timing.tokens_per_second:6.0f}  {describe(cfg)}"
            )


if __name__ == "__main__":
    main()
