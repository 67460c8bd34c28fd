"""GRPO step cost: harmlab GRPO (TRL GRPOTrainer + meter) vs a hand-written step, same shapes.

    .venv/bin/python benchmarks/grpo_step.py                    # tiny model, 8 prompts x 8 x 48
    .venv/bin/python benchmarks/grpo_step.py --model /path/to/model --threads 1 --steps 6
    .venv/bin/python benchmarks/grpo_step.py --rounds 3          # alternate the sides 3 times

Each side runs in its own subprocess (so peak memory is its own) on the same model, prompts,
group size, completion length (generation forced to exactly `--length` tokens, so both do the
same work), one policy-gradient update per generation, beta=0 (no reference model), AdamW, no
activation checkpointing (harmlab's training default). The hand-written step does the work TRL's
must do for the same update: the clipped importance ratio (epsilon 0.2), the per-token loss
normalisation (DAPO, TRL's and harmlab's default; every completion has `--length` tokens),
gradient clipping at norm 1 (TRL's default, which harmlab keeps), and the LM head on the
completion positions only (`logits_to_keep`) and no KV cache in the training pass, as a
careful hand-written step would; both sides draw the same prompts in the same order.
Reported per side: median seconds per step after `--warmup` steps, generated tokens per
second of step time, peak memory (CUDA allocator, or the process's peak RSS on CPU); then the
ratio TRL / hand-written (issue 14 target: at most 1.10), and the generation ratio (the same
transformers code on both sides, so its distance from 1 is the load's drift between the two
subprocesses on a shared machine), and the ratio of CPU seconds a step (process time: with
`--threads 1`, the work done, whatever else the machine runs). `--rounds N` alternates the
sides N times and prints the median ratio. The hand-written step lives only here.
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
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Run the two sides alternately this many times; print each ratio and the median.",
    )
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
    cpu: list[float] = []
    generation: list[float] = []
    meter = ComputeMeter(n_params=sum(p.numel() for p in model.parameters()))

    class Timer(TrainerCallback):
        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self.start, self.generated = time.perf_counter(), meter.seconds["generation"]
            self.cpu_start = time.process_time()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            times.append(time.perf_counter() - self.start)
            cpu.append(time.process_time() - self.cpu_start)
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
        lr_scheduler_type="constant",  # harmlab's GRPO default
        use_cpu=not torch.cuda.is_available(),
        bf16=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        seed=0,
        shuffle_dataset=False,  # the hand-written step's prompts, in its order
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
    return summarize(times[args.warmup :], cpu[args.warmup :], generation[args.warmup :], args)


CLIP = 0.2
"""Importance-ratio clip range, TRL's default `epsilon` (the benchmark's TRL side uses it)."""


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
    outputs = model(
        input_ids=sequences,
        attention_mask=attention,
        logits_to_keep=args.length + 1,  # the LM head on the completion positions only
        use_cache=False,  # a training pass keeps no KV cache (TRL's neither)
    )
    logits = outputs.logits[:, :-1]
    logps = torch.log_softmax(logits.float(), -1).gather(-1, sequences[:, width:, None])[..., 0]
    ratio = torch.exp(logps - logps.detach())  # 1 on policy, but carries the gradient
    clipped = ratio.clamp(1 - CLIP, 1 + CLIP)
    per_token = torch.min(ratio * advantages[:, None], clipped * advantages[:, None])
    loss = -per_token.sum() / per_token.numel()  # DAPO: over the batch's tokens
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
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
    times, cpu, generation = [], [], []
    for step in range(args.warmup + args.steps):
        chosen = prompts[step * args.prompts : (step + 1) * args.prompts]
        start, cpu_start = time.perf_counter(), time.process_time()
        generation.append(manual_step(model, tokenizer, optimizer, chosen, args))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return summarize(times[args.warmup :], cpu[args.warmup :], generation[args.warmup :], args)


def summarize(
    times: list[float], cpu: list[float], generation: list[float], args: argparse.Namespace
) -> dict[str, Any]:
    seconds = statistics.median(times)
    tokens = args.prompts * args.generations * args.length
    return {
        "s_per_step": seconds,
        "generation_s": statistics.median(generation),
        "cpu_s_per_step": statistics.median(cpu),
        "tokens_per_s": tokens / seconds,
        "peak_mib": peak_mib(),
    }


def main() -> None:
    args = arguments()
    if args.side:
        result = run_trl(args) if args.side == "trl" else run_manual(args)
        print("RESULT " + json.dumps(result))
        return
    shape = f"{args.prompts} prompts x {args.generations} completions x {args.length} tokens"
    print(f"model {args.model}, {shape}, median of {args.steps} steps after {args.warmup}")
    ratios = [measure_round(args) for _ in range(args.rounds)]
    if args.rounds > 1:
        print(f"ratios {' / '.join(f'{r:.2f}' for r in ratios)}", end=", ")
        print(f"median {statistics.median(ratios):.2f} (target <= 1.10)")


def measure_round(args: argparse.Namespace) -> float:
    """Run both sides once, print their figures, return the ratio TRL / hand-written."""
    results = {side: measure(side) for side in ("manual", "trl")}
    for side, r in results.items():
        print(
            f"{side:>7}: {r['s_per_step']:.3f} s/step (generation {r['generation_s']:.3f} s, "
            f"CPU {r['cpu_s_per_step']:.3f} s)  "
            f"{r['tokens_per_s']:.0f} generated tok/s  "
            f"peak {r['peak_mib']:.0f} MiB"
        )
    trl, manual = results["trl"], results["manual"]
    generation = trl["generation_s"] / manual["generation_s"]
    rest = rest_of_step(trl) / rest_of_step(manual)
    # Generation runs the same transformers code on both sides: its ratio's distance from 1 is
    # how much the shared machine's load moved between the two subprocesses.
    print(f"generation ratio {generation:.2f} (same code: noise), the rest of a step {rest:.2f}")
    cpu = trl["cpu_s_per_step"] / manual["cpu_s_per_step"]
    print(f"CPU-time ratio {cpu:.2f} (process CPU seconds a step: less sensitive to load)")
    ratio = float(trl["s_per_step"] / manual["s_per_step"])
    print(f"ratio TRL / hand-written: {ratio:.2f} (target <= 1.10)", flush=True)
    return ratio


def rest_of_step(result: dict[str, Any]) -> float:
    """Seconds of a step outside generation: rewards, log-probabilities, loss, backward, update."""
    return float(result["s_per_step"] - result["generation_s"])


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
