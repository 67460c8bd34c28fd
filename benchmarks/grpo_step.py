"""GRPO step cost: harmlab GRPO (TRL GRPOTrainer + meter) vs a hand-written step, same shapes.

    .venv/bin/python benchmarks/grpo_step.py                    # tiny model, 8 prompts x 8 x 48
    .venv/bin/python benchmarks/grpo_step.py --model /path/to/model --threads 1 --steps 6

Each side runs in its own subprocess (so peak memory is its own) on the same model, prompts,
group size, completion length (generation forced to exactly `--length` tokens, so both do the
same work), one policy-gradient update per generation, beta=0 (no reference model), AdamW, no
activation checkpointing (harmlab's training default).
Reported per side: median seconds per step after `--warmup` steps, generated tokens per
second of step time, peak memory (CUDA allocator, or the process's peak RSS on CPU); then the
ratio TRL / hand-written (issue 14 target: at most 1.10). The hand-written step lives only here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

import harmlab  # noqa: F401  (sets OMP_WAIT_POLICY before torch loads OpenMP)

# isort: split
import torch


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="Model reference (tiny, a folder, ...).")
    parser.add_argument("--prompts", type=int, default=8, help="Prompts per step.")
    parser.add_argument("--generations", type=int, default=8, help="Completions per prompt.")
    parser.add_argument("--length", type=int, default=48, help="Generated tokens per completion.")
    parser.add_argument("--steps", type=int, default=6, help="Measured steps.")
    parser.add_argument("--warmup", type=int, default=2, help="Unmeasured first steps.")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default).")
    parser.add_argument("--side", choices=["trl", "manual"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def setup(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    from harmlab.models.resolve import load_model
    from harmlab.world import SafetyWorld

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, tokenizer = load_model(args.model, dtype=torch.float32)
    model.train()
    prompts = [p.text for p in SafetyWorld(0).sample("rl", "benign", args.prompts * 16)]
    return model, tokenizer, prompts


def peak_mib() -> float:
    from harmlab.training.compute import peak_memory_mib

    return peak_memory_mib()


def run_trl(args: argparse.Namespace) -> dict[str, Any]:
    """Steps of TRL's GRPOTrainer, timed by a callback around each optimizer step."""
    import tempfile

    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig

    from harmlab.rewards import format_reward
    from harmlab.training.compute import ComputeMeter
    from harmlab.training.grpo import MeteredGRPOTrainer

    model, tokenizer, prompts = setup(args)
    times: list[float] = []
    generation: list[float] = []
    meter = ComputeMeter(n_params=sum(p.numel() for p in model.parameters()))

    class Timer(TrainerCallback):
        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self.start, self.generated = time.perf_counter(), meter.seconds["generation"]

        def on_step_end(self, *a: Any, **k: Any) -> None:
            times.append(time.perf_counter() - self.start)
            generation.append(meter.seconds["generation"] - self.generated)

    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(),
        max_steps=args.warmup + args.steps,
        per_device_train_batch_size=args.prompts * args.generations,
        num_generations=args.generations,
        max_completion_length=args.length,
        generation_kwargs={"min_new_tokens": args.length},
        beta=0.0,
        activation_checkpointing=False,  # TRL's default is on; harmlab's training turns it off
        learning_rate=1e-5,
        use_cpu=not torch.cuda.is_available(),
        bf16=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        seed=0,
    )
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": p}] for p in prompts]})
    trainer = MeteredGRPOTrainer(
        model=model,
        reward_funcs=[format_reward],
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[Timer()],
    )
    trainer.meter = meter
    trainer.train()
    return summarize(times[args.warmup :], generation[args.warmup :], args)


def manual_step(
    model: Any, tokenizer: Any, optimizer: Any, prompts: list[str], args: argparse.Namespace
) -> float:
    """One on-policy GRPO step: sample G per prompt, group-normalised advantages, one update."""
    from harmlab.evaluation.generation import render_chat_prompt
    from harmlab.rewards import format_reward

    tokenizer.padding_side = "left"
    rendered = [render_chat_prompt(tokenizer, p) for p in prompts for _ in range(args.generations)]
    batch = tokenizer(rendered, return_tensors="pt", padding=True, add_special_tokens=False)
    batch = batch.to(model.device)
    start = time.perf_counter()
    with torch.no_grad():
        sequences = model.generate(
            **batch,
            do_sample=True,
            temperature=1.0,
            max_new_tokens=args.length,
            min_new_tokens=args.length,
            pad_token_id=tokenizer.pad_token_id,
        )
    generation_seconds = time.perf_counter() - start
    width = batch["input_ids"].shape[1]
    texts = tokenizer.batch_decode(sequences[:, width:], skip_special_tokens=True)
    rewards = torch.tensor(format_reward(rendered, texts), dtype=torch.float32)
    advantages = group_advantages(rewards, args.generations).to(model.device)
    attention = torch.cat([batch["attention_mask"], torch.ones_like(sequences[:, width:])], dim=1)
    logits = model(input_ids=sequences, attention_mask=attention).logits[:, width - 1 : -1]
    logps = torch.log_softmax(logits.float(), -1).gather(-1, sequences[:, width:, None])[..., 0]
    ratio = torch.exp(logps - logps.detach())  # 1 on policy, but carries the gradient
    loss = -(ratio * advantages[:, None]).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return generation_seconds


def group_advantages(rewards: torch.Tensor, group: int) -> torch.Tensor:
    """(r - mean of its group) / (std of its group + 1e-4), as GRPO (arXiv 2402.03300)."""
    grouped = rewards.view(-1, group)
    mean, std = grouped.mean(1, keepdim=True), grouped.std(1, keepdim=True)
    return ((grouped - mean) / (std + 1e-4)).view(-1)


def run_manual(args: argparse.Namespace) -> dict[str, Any]:
    model, tokenizer, prompts = setup(args)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    times, generation = [], []
    for step in range(args.warmup + args.steps):
        chosen = prompts[step * args.prompts : (step + 1) * args.prompts]
        start = time.perf_counter()
        generation.append(manual_step(model, tokenizer, optimizer, chosen, args))
        times.append(time.perf_counter() - start)
    return summarize(times[args.warmup :], generation[args.warmup :], args)


def summarize(
    times: list[float], generation: list[float], args: argparse.Namespace
) -> dict[str, Any]:
    seconds = statistics.median(times)
    tokens = args.prompts * args.generations * args.length
    return {
        "s_per_step": seconds,
        "generation_s": statistics.median(generation),
        "tokens_per_s": tokens / seconds,
        "peak_mib": peak_mib(),
    }


def main() -> None:
    args = arguments()
    if args.side:
        result = run_trl(args) if args.side == "trl" else run_manual(args)
        print("RESULT " + json.dumps(result))
        return
    results = {side: measure(side) for side in ("manual", "trl")}
    shape = f"{args.prompts} prompts x {args.generations} completions x {args.length} tokens"
    print(f"model {args.model}, {shape}, median of {args.steps} steps after {args.warmup}")
    for side, r in results.items():
        print(
            f"{side:>7}: {r['s_per_step']:.3f} s/step (generation {r['generation_s']:.3f} s)  "
            f"{r['tokens_per_s']:.0f} generated tok/s  "
            f"peak {r['peak_mib']:.0f} MiB"
        )
    ratio = results["trl"]["s_per_step"] / results["manual"]["s_per_step"]
    print(f"ratio TRL / hand-written: {ratio:.2f} (target <= 1.10)")


def measure(side: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *sys.argv[1:], "--side", side], capture_output=True, text=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{side} side failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(lines[-1].removeprefix("RESULT ")))


if __name__ == "__main__":
    main()
