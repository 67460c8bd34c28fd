"""Pretraining step cost of the tiny model: float32 against bfloat16 autocast (a benchmark).

    .venv/bin/python benchmarks/pretrain_step.py                 # default TinyModelConfig shapes
    .venv/bin/python benchmarks/pretrain_step.py --threads 1 --steps 10

`TinyModelConfig.bf16_autocast` is off by default; this measures whether turning it on would
pay on this machine (whether or not its CPU reports native AVX512-BF16): median seconds per
optimizer step (forward, backward, clip, AdamW) on random token blocks of the configured batch
shape, for each precision, and the ratio bf16 / float32 (below 1: autocast is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from harmlab.models.tiny import _optimizer, build_model
from harmlab.models.tiny_config import TinyModelConfig
from harmlab.models.tokenizer import train_tokenizer
from harmlab.world import SafetyWorld


def seconds_per_step(bf16: bool, steps: int, warmup: int, cfg: TinyModelConfig) -> float:
    """Median wall seconds of one pretraining step in the given precision."""
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
    return statistics.median(times[warmup:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="Measured steps per precision.")
    parser.add_argument("--warmup", type=int, default=3, help="Unmeasured first steps.")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default).")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = TinyModelConfig()
    tokens = cfg.batch_size * cfg.seq_len
    print(
        f"{cfg.batch_size} x {cfg.seq_len} tokens per step, {torch.get_num_threads()} threads, "
        f"AVX512-BF16: {torch.cpu._is_avx512_bf16_supported()}, "
        f"median of {args.steps} after {args.warmup}"
    )
    results = {}
    for name, bf16 in (("float32", False), ("bf16", True)):
        results[name] = seconds_per_step(bf16, args.steps, args.warmup, cfg)
        print(f"{name:>8}: {results[name]:.3f} s/step  {tokens / results[name]:,.0f} tok/s")
    print(f"ratio bf16 / float32: {results['bf16'] / results['float32']:.2f}")


if __name__ == "__main__":
    main()
