"""The tiny embedded model: a ~2M-parameter Llama pretrained from scratch on a world's corpus.

    harmlab pretrain --from-scratch   # pretrains it (through models.base.ensure_base_model)

`pretrain` renders each (prompt, response) pair in the chat format of `models.chat`, trains a
byte-level BPE tokenizer on the texts, packs the token stream into fixed-length blocks and
trains next-token prediction with AdamW and a warmup + cosine schedule. The result is a plain
Hugging Face folder (safetensors, config, tokenizer, generation config) that every other part
of harmlab, TRL included, loads with `from_pretrained`.

The loop is hand-written rather than the HF Trainer: pretraining a 2M model is a 30-line loop,
and the Trainer adds seconds of start-up, an accelerate state and a run folder for nothing a
fixed-schedule single-device run needs. Fine-tuning (SFT, GRPO) goes through TRL.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import transformers
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from harmlab.locks import FolderLock
from harmlab.models.chat import END, render_conversation
from harmlab.models.folders import atomic_folder, is_complete_model_folder, quiet_hf_progress
from harmlab.models.tiny_config import TinyModelConfig, training_flops_per_token
from harmlab.models.tokenizer import train_tokenizer

__all__ = [
    "TinyModelConfig",
    "build_model",
    "cosine_lr_factor",
    "end_token_id",
    "pack_token_stream",
    "pretrain",
]

REPORT_FILE = "pretrain.json"
"""Written beside the weights: resolved config, losses, wall time, tokens seen, model FLOP/s."""


@dataclass
class PretrainStats:
    """What the training loop measured."""

    losses: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    tokens_seen: int = 0


def end_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The id of `<|endoftext|>`: end of sequence, padding and beginning of sequence at once."""
    end_id = tokenizer.convert_tokens_to_ids(END)
    if not isinstance(end_id, int):
        raise TypeError(f"tokenizer maps {END!r} to {end_id!r}, not one id")
    return end_id


def build_model(cfg: TinyModelConfig, tokenizer: PreTrainedTokenizerBase) -> LlamaForCausalLM:
    """A freshly initialised Llama sized by `cfg` and by the trained tokenizer's vocabulary."""
    end_id = end_token_id(tokenizer)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_position,
        tie_word_embeddings=cfg.tie_embeddings,
        bos_token_id=end_id,
        eos_token_id=end_id,
        pad_token_id=end_id,
    )
    return LlamaForCausalLM(config)


def pack_token_stream(
    conversations: Sequence[Sequence[int]], seq_len: int, end_id: int
) -> torch.Tensor:
    """Concatenate tokenized conversations into one stream and cut it into seq_len blocks.

    The stream starts with the end marker, which doubles as beginning-of-sequence, so every
    conversation (the first included) follows an `<|endoftext|>`. The ragged tail is dropped.
    """
    stream = [end_id]
    for ids in conversations:
        stream.extend(ids)
    usable = (len(stream) // seq_len) * seq_len
    return torch.tensor(stream[:usable], dtype=torch.long).view(-1, seq_len)


def cosine_lr_factor(step: int, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Learning-rate multiplier: linear warmup to 1, then cosine decay to min_ratio."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return min_ratio + (1.0 - min_ratio) * cosine


def pretrain(
    conversations: Sequence[tuple[str, str]],
    cfg: TinyModelConfig,
    out_dir: Path,
    progress: bool = True,
) -> Path:
    """Pretrain a tiny model on (prompt, response) pairs and write it to `out_dir` atomically.

    One process pretrains a given folder at a time: a second one waits for the first (saying
    so) and then reuses its model instead of training the same one again and swapping it in.
    """
    lock = FolderLock(out_dir, "pretraining this model").acquire(wait=True, on_wait=_waiting)
    with lock:
        if lock.waited and is_complete_model_folder(out_dir):
            return out_dir  # the process we waited for built it from the same inputs
        return _pretrain(conversations, cfg, out_dir, progress)


def _waiting(pid: int | None) -> None:
    who = f"process {pid}" if pid else "another process"
    print(f"waiting for {who}, which is pretraining the same model", file=sys.stderr)


def _pretrain(
    conversations: Sequence[tuple[str, str]], cfg: TinyModelConfig, out_dir: Path, progress: bool
) -> Path:
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.num_threads or os.cpu_count() or 1)
    try:
        texts = [render_conversation(prompt, response) for prompt, response in conversations]
        random.Random(cfg.seed).shuffle(texts)
        tokenizer = train_tokenizer(texts, cfg.vocab_size, model_max_length=cfg.max_position)
        end_id = end_token_id(tokenizer)
        token_ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
        blocks = pack_token_stream(token_ids, cfg.seq_len, end_id)
        torch.manual_seed(cfg.seed)
        model = build_model(cfg, tokenizer)
        stats = _train(model, blocks, cfg, progress)
        with atomic_folder(out_dir) as tmp:
            _save(model, tokenizer, cfg, stats, tmp, corpus_tokens=blocks.numel())
    finally:
        torch.set_num_threads(previous_threads)
    return out_dir


def _batches(blocks: torch.Tensor, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless seeded batches of blocks: a fresh permutation every epoch."""
    if len(blocks) < batch_size:
        raise ValueError(f"corpus packs into {len(blocks)} blocks, fewer than one batch")
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(blocks), generator=generator)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield blocks[order[start : start + batch_size]]


def _optimizer(model: torch.nn.Module, cfg: TinyModelConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only; norms' gains are not decayed."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def _train(
    model: LlamaForCausalLM, blocks: torch.Tensor, cfg: TinyModelConfig, progress: bool
) -> PretrainStats:
    """The pretraining loop: next-token loss over packed blocks, one optimizer step per batch."""
    optimizer = _optimizer(model, cfg)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: cosine_lr_factor(step, cfg.steps, cfg.warmup_steps, cfg.min_lr_ratio),
    )
    stats = PretrainStats()
    batches = _batches(blocks, cfg.batch_size, cfg.seed)
    model.train()
    start = time.perf_counter()
    with _progress_bar(progress) as bar:
        task = bar.add_task("pretrain", total=cfg.steps, loss=float("nan"), tps=0.0)
        for _ in range(cfg.steps):
            batch = next(batches)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16_autocast):
                loss = model(input_ids=batch, labels=batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            stats.losses.append(loss.item())
            stats.tokens_seen += batch.numel()
            stats.wall_seconds = time.perf_counter() - start
            tps = stats.tokens_seen / stats.wall_seconds
            bar.update(task, advance=1, loss=stats.losses[-1], tps=tps)
    model.eval()
    return stats


def _progress_bar(enabled: bool) -> Progress:
    """A rich bar showing step, loss and training throughput."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TextColumn("{task.fields[tps]:,.0f} tok/s"),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def _save(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerBase,
    cfg: TinyModelConfig,
    stats: PretrainStats,
    folder: Path,
    corpus_tokens: int,
) -> None:
    """Write weights, tokenizer, generation config and the pretraining report to `folder`."""
    end_id = end_token_id(tokenizer)
    model.generation_config = GenerationConfig(
        bos_token_id=end_id, eos_token_id=end_id, pad_token_id=end_id
    )
    with quiet_hf_progress():
        model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    report = _report(model, cfg, stats, corpus_tokens)
    (folder / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")


def _report(
    model: LlamaForCausalLM, cfg: TinyModelConfig, stats: PretrainStats, corpus_tokens: int
) -> dict[str, object]:
    """The JSON record of a pretraining run."""
    tail = stats.losses[-10:]
    thin = max(1, len(stats.losses) // 100)
    tokens_per_second = stats.tokens_seen / max(1e-9, stats.wall_seconds)
    flops_per_token = training_flops_per_token(cfg, model.config.vocab_size)
    return {
        "config": asdict(cfg),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": model.config.vocab_size,
        "corpus_tokens": corpus_tokens,
        "tokens_seen": stats.tokens_seen,
        "epochs": stats.tokens_seen / max(1, corpus_tokens),
        "first_loss": stats.losses[0],
        "final_loss": sum(tail) / len(tail),
        "wall_seconds": round(stats.wall_seconds, 2),
        "seconds_per_step": round(stats.wall_seconds / max(1, len(stats.losses)), 4),
        "tokens_per_second": round(tokens_per_second, 1),
        "flops_per_token": flops_per_token,
        "model_flops_per_second": round(tokens_per_second * flops_per_token),
        "loss_curve": [[i, round(x, 4)] for i, x in enumerate(stats.losses) if i % thin == 0],
        "threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
