"""GRPO's CPU scoring path (`harmlab.training.grpo.completion_logps`) is a pure speedup: the
log-probabilities, entropies and gradients equal those of TRL's fused LM head, and two training
steps update the weights exactly as TRL's own path does (same seed, float tolerance).

    .venv/bin/pytest tests/training/test_grpo_scoring.py -q
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import trl.trainer.utils

from harmlab.training import grpo

pytestmark = pytest.mark.usefixtures("one_thread")

PROMPTS = [f"Mia has {n} coins. She gets {n + 3} more. How many now?" for n in range(4)]


def length_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    """A reward that differs within a group, so the advantages (and the gradient) are not 0."""
    return [float(len(c[0]["content"]) % 7) for c in completions]


class FusedHeadCalls:
    """Counts the calls of TRL's fused LM head (`trl.trainer.utils._ChunkedLogProbFunction`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        head = trl.trainer.utils._ChunkedLogProbFunction
        apply = head.apply

        def counted(*args: Any) -> Any:
            self.calls += 1
            return apply(*args)

        monkeypatch.setattr(head, "apply", counted)


def make_trainer(model_path: Path, out: Path, **overrides: Any) -> grpo.MeteredGRPOTrainer:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    from harmlab.training.compute import ComputeMeter

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    arguments: dict[str, Any] = {
        "output_dir": str(out),
        "max_steps": 2,
        "per_device_train_batch_size": 8,
        "num_generations": 4,
        "max_completion_length": 16,
        "temperature": 0.7,  # TRL divides the logits by it: the plain head must too
        "beta": 0.0,
        "learning_rate": 0.5,
        "optim": "sgd",  # the update is lr x gradient: equal weights mean equal gradients
        "lr_scheduler_type": "constant",
        "activation_checkpointing": False,
        "use_cpu": True,
        "bf16": False,
        "report_to": "none",
        "logging_steps": 1,
        "save_strategy": "no",
        "disable_tqdm": True,
        "seed": 0,
        **overrides,
    }
    rows = {"prompt": [[{"role": "user", "content": p}] for p in PROMPTS]}
    trainer = grpo.MeteredGRPOTrainer(
        model=model,
        reward_funcs=[length_reward],
        args=GRPOConfig(**arguments),
        train_dataset=Dataset.from_dict(rows),
        processing_class=AutoTokenizer.from_pretrained(model_path),
    )
    trainer.meter = ComputeMeter(n_params=sum(p.numel() for p in model.parameters()))
    return trainer


@pytest.fixture(scope="module")
def trainer(micro_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield make_trainer(micro_model, tmp_path_factory.mktemp("grpo-scoring"))


def padded_batch(vocab: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Six sequences of 7 prompt + 5 completion tokens: left-padded prompts, and completions
    cut short by an EOS (their tail masked), as TRL builds them."""
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, vocab, (6, 12), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, :3] = 0
    mask[1, :1] = 0
    mask[2, -2:] = 0
    mask[3, -4:] = 0
    return ids, mask, 5


def test_plain_head_scores_and_differentiates_as_trls_fused_head(
    trainer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trl import GRPOTrainer

    model = trainer.model
    ids, mask, keep = padded_batch(model.config.vocab_size)
    weights = torch.linspace(-1.0, 1.0, ids.size(0))[:, None]

    def score(method: Any) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        logps, entropies, _ = method(trainer, model, ids, mask, keep, compute_entropy=True)
        (logps * weights).sum().backward()
        return logps.detach(), entropies.detach(), [p.grad.clone() for p in model.parameters()]

    fused = FusedHeadCalls(monkeypatch)
    trl_logps, trl_entropies, trl_grads = score(GRPOTrainer._get_per_token_logps_and_entropies)
    assert fused.calls == 1
    logps, entropies, grads = score(grpo.MeteredGRPOTrainer._get_per_token_logps_and_entropies)
    assert fused.calls == 1  # the CPU path did not go through TRL's fused head

    assert bool((logps[mask[:, -keep:] == 0] == 0).all())
    assert torch.allclose(logps, trl_logps, atol=1e-5)
    assert torch.allclose(entropies, trl_entropies, atol=1e-5)
    assert any(g.abs().max() > 0 for g in grads)
    for ours, theirs in zip(grads, trl_grads, strict=True):
        gap = (ours - theirs).abs().max().item()
        assert gap <= 1e-5 * theirs.abs().max().item(), gap


def test_plain_head_chunks_as_trl_does(trainer: Any) -> None:
    """`batch_size` splits the scoring pass (TRL's memory bound); the chunks join in order."""
    model = trainer.model
    ids, mask, keep = padded_batch(model.config.vocab_size)
    with torch.no_grad():
        whole, _, _ = trainer._get_per_token_logps_and_entropies(model, ids, mask, keep)
        chunked, none, _ = trainer._get_per_token_logps_and_entropies(
            model, ids, mask, keep, batch_size=4
        )
    assert none is None  # no entropy unless asked
    assert torch.allclose(whole, chunked, atol=1e-6)


def test_plain_head_falls_back_to_trls_head_past_its_size(
    trainer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = trainer.model
    ids, mask, keep = padded_batch(model.config.vocab_size)
    assert trainer.plain_head_fits(model, ids.size(0) * keep)
    monkeypatch.setattr(grpo, "PLAIN_HEAD_MAX_LOGITS", ids.size(0) * keep * 10)
    assert not trainer.plain_head_fits(model, ids.size(0) * keep)
    fused = FusedHeadCalls(monkeypatch)
    with torch.no_grad():
        trainer._get_per_token_logps_and_entropies(model, ids, mask, keep)
    assert fused.calls == 1


def test_two_steps_train_the_same_weights_as_trls_head(
    micro_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same seed, same generations: each step's loss, entropy and updated weights agree."""
    runs = {}
    for name, limit in (("trl", 0), ("plain", grpo.PLAIN_HEAD_MAX_LOGITS)):
        monkeypatch.setattr(grpo, "PLAIN_HEAD_MAX_LOGITS", limit)
        fused = FusedHeadCalls(monkeypatch)
        trainer = make_trainer(micro_model, tmp_path / name)
        start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        trainer.train()
        assert (fused.calls > 0) == (name == "trl")
        logs = [log for log in trainer.state.log_history if "entropy" in log]
        runs[name] = (start, trainer.model.state_dict(), logs)

    (start, trl_weights, trl_logs), (_, weights, logs) = runs["trl"], runs["plain"]
    assert [log["entropy"] for log in logs] == pytest.approx(
        [log["entropy"] for log in trl_logs], rel=1e-5
    )
    assert [log["reward"] for log in logs] == [log["reward"] for log in trl_logs]
    moved = [k for k in weights if not torch.equal(weights[k], start[k])]
    assert moved  # the updates are not empty
    for key in weights:
        assert torch.allclose(weights[key], trl_weights[key], rtol=1e-4, atol=1e-6), key
