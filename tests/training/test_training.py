"""Training on the micro model: SFT lowers loss and moves every parameter, GRPO raises reward,
one of our rewards trains inside a bare `trl.GRPOTrainer`, and the monitor writes its curves.

All runs use one CPU thread: on a shared 2-core machine spinning OpenMP threads make two
threads many times slower than one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from harmlab.config import load_config
from harmlab.training.config import GRPORunConfig, SFTRunConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def sft_run(micro_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harmlab.training.sft import train_sft

    run = tmp_path_factory.mktemp("sft") / "run"
    config = load_config(
        SFTRunConfig,
        None,
        [
            f"model={micro_policy}",
            f"output_dir={run}",
            "threads=1",
            "data.size=128",
            "train.steps=16",
            "train.batch_size=8",
            "train.learning_rate=3e-3",
            "train.max_length=128",
            "train.save_every=8",
            "monitor.every=8",
            "monitor.probes_per_family=2",
            "monitor.max_new_tokens=24",
        ],
    )
    train_sft(config)
    return run


def test_sft_lowers_loss(sft_run: Path) -> None:
    losses = [r["loss"] for r in records(sft_run)]
    assert len(losses) == 16
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.2


def test_sft_changes_every_trainable_parameter(sft_run: Path, micro_policy: Path) -> None:
    before = load_file(str(micro_policy / "model.safetensors"))
    after = load_file(str(sft_run / "final" / "model.safetensors"))
    assert set(before) == set(after)
    unchanged = [name for name in before if torch.equal(before[name], after[name])]
    assert unchanged == []


def test_run_directory_is_reproducible_record(sft_run: Path) -> None:
    manifest = json.loads((sft_run / "run.json").read_text())
    assert manifest["seed"] == 0 and manifest["packages"]["trl"]
    assert load_config(SFTRunConfig, sft_run / "config.yaml").train.steps == 16
    assert (sft_run / "checkpoint-8" / "model.safetensors").is_file()
    assert (sft_run / "final" / "config.json").is_file()
    probes = [r for r in records(sft_run) if "probe/gold_reward" in r]
    assert [r["step"] for r in probes] == [1, 8, 16]
    assert probes[0]["probe/kl"] == pytest.approx(0.0, abs=1e-4)  # the start policy itself
    assert probes[-1]["probe/kl"] > 0.0
    assert all(0.0 <= r["probe/harmful_compliance"] <= 1.0 for r in probes)
    assert records(sft_run)[-1]["compute/tokens_trained"] > 0


def test_grpo_with_format_and_accuracy_raises_mean_reward(
    micro_policy: Path, tmp_path: Path
) -> None:
    from harmlab.training.grpo import train_grpo

    config = load_config(
        GRPORunConfig,
        None,
        [
            f"model={micro_policy}",
            f"output_dir={tmp_path / 'run'}",
            "threads=1",
            "prompts.size=128",
            "prompts.mix={benign: 1.0}",
            "train.steps=24",
            "train.prompts_per_step=4",
            "train.num_generations=8",
            "train.max_completion_length=64",
            "train.learning_rate=5e-4",
            "train.beta=0",
            "train.save_every=100",
            "monitor.every=0",
        ],
    )
    train_grpo(config)
    rewards = [r["reward"] for r in records(tmp_path / "run")]
    # 24 steps of 64 tokens: first third 0.16, last third 0.41 on this seed (36 steps of 96
    # tokens rose 0.14 -> 0.42 at twice the cost)
    assert len(rewards) == 24
    first, last = sum(rewards[:8]) / 8, sum(rewards[-8:]) / 8
    assert last > first + 0.1, (first, last)
    run = records(tmp_path / "run")[-1]
    assert run["compute/tokens_generated"] > 0 and run["compute/generation_s"] > 0


def test_our_reward_trains_inside_a_bare_trl_grpo_trainer(
    micro_policy: Path, tmp_path: Path
) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from harmlab.rewards import format_reward

    model = AutoModelForCausalLM.from_pretrained(micro_policy)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    prompts = [
        [{"role": "user", "content": f"Mia has {n} coins. She gets 3 more."}] for n in range(8)
    ]
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[format_reward],
        args=GRPOConfig(
            output_dir=str(tmp_path),
            max_steps=3,
            per_device_train_batch_size=8,
            num_generations=4,
            max_completion_length=32,
            learning_rate=1e-2,
            use_cpu=True,
            bf16=False,
            report_to="none",
            logging_steps=1,
            save_strategy="no",
            seed=0,
        ),
        train_dataset=Dataset.from_dict({"prompt": prompts}),
        processing_class=AutoTokenizer.from_pretrained(micro_policy),
    )
    trainer.train()
    logged = [log for log in trainer.state.log_history if "rewards/format_reward/mean" in log]
    assert len(logged) == 3
    moved = [k for k, v in model.state_dict().items() if not torch.equal(v, start[k])]
    assert moved  # the policy gradient from our reward reached the weights
