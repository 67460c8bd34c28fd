"""Crash safety: a GRPO run killed with SIGKILL mid-training and resumed with `--resume` has
contiguous, non-duplicated steps in metrics.jsonl; bad config keys fail in one line. Resume is
exact: a finished run trains nothing more, a run resumed past a data-epoch boundary (from a
moved folder) repeats the uninterrupted run's steps, and a failed start leaves no run folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from harmlab import HarmlabError


def _config(tmp_path: Path, model: Path) -> Path:
    config = {
        "model": str(model),
        "output_dir": str(tmp_path / "run"),
        "threads": 1,
        "prompts": {"size": 64},
        "rewards": [
            {"name": "format", "weight": 0.5},
            {"name": "accuracy"},
            {"name": "keyword_blocklist", "params": {"span": "completion"}},
        ],
        "train": {
            "steps": 10,
            "prompts_per_step": 2,
            "num_generations": 4,
            "max_completion_length": 24,
            "save_every": 3,
        },
        "monitor": {"every": 2, "probes_per_family": 1, "max_new_tokens": 16},
    }
    path = tmp_path / "grpo.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _train(config: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HARMLAB_ALLOW_NETWORK"}
    return subprocess.Popen(
        [sys.executable, "-m", "harmlab", "train", "grpo", "--config", str(config), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _steps(run: Path) -> list[int]:
    metrics = run / "metrics.jsonl"
    if not metrics.is_file():
        return []
    return [json.loads(line)["step"] for line in metrics.read_text().splitlines() if line]


def test_sigkill_then_resume_gives_contiguous_unique_steps(
    micro_policy: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path, micro_policy)
    run = tmp_path / "run"
    process = _train(config)
    deadline = time.monotonic() + 240
    while len(_steps(run)) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = _steps(run)
    assert 5 <= len(killed_at) < 10 and (run / "checkpoint-3").is_dir()

    resumed = _train(config, "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-2000:]
    assert _steps(run) == list(range(1, 11))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    probed = [r["step"] for r in records if "probe/gold_reward" in r]
    assert probed == [1, 2, 4, 6, 8, 10]
    assert all(
        "probe/gamed" in r and "probe/proxy_reward" in r for r in records if r["step"] in probed
    )
    tokens = [r["compute/tokens_generated"] for r in records]
    assert tokens == sorted(tokens)  # the meter continued its totals across the crash


def test_bad_config_key_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  step: 3\n")
    done = subprocess.run(
        [sys.executable, "-m", "harmlab", "train", "grpo", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown key 'train.step'" in lines[0]
    assert "valid keys in 'train': steps" in lines[0]


# --- resume exactness: a finished run, a crash after the last checkpoint, an epoch boundary ---

EPOCH_RUN = [
    "threads=1",
    "prompts.size=32",  # 4 steps per epoch at 8 prompts per step
    "rewards=[{name: format, weight: 0.5}, {name: accuracy}]",
    "train.steps=10",
    "train.prompts_per_step=8",
    "train.num_generations=2",
    "train.max_completion_length=16",
    "train.save_every=5",  # checkpoint-5 lies in epoch 2; steps 6-10 cross into epoch 3
    "monitor.every=0",
]
COMPARED = ("loss", "grad_norm", "reward", "reward_std", "kl", "entropy", "num_tokens")


def _grpo(model: Path, run: Path, resume: bool = False) -> dict[str, object]:
    from harmlab.config import load_config
    from harmlab.training.config import GRPORunConfig
    from harmlab.training.grpo import train_grpo

    config = load_config(GRPORunConfig, None, [f"model={model}", f"output_dir={run}", *EPOCH_RUN])
    return train_grpo(config, resume=resume)


def _records(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(micro_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("epochs") / "run"
    _grpo(micro_model, run)
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    moved = tmp_path / "moved" / "run"  # a different folder than the config's saved output_dir
    shutil.copytree(run, moved)
    return moved


def test_resume_of_a_finished_run_trains_nothing(
    finished_run: Path, micro_model: Path, tmp_path: Path
) -> None:
    run = _copy(finished_run, tmp_path)
    final = _files(run / "final")
    summary = _grpo(micro_model, run, resume=True)
    assert summary["steps"] == 10
    assert _files(run / "final") == final  # byte-identical
    assert [r["step"] for r in _records(run)] == list(range(1, 11))
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-10", "checkpoint-5"]


def test_resume_after_the_last_checkpoint_exports_final_without_training(
    finished_run: Path, micro_model: Path, tmp_path: Path
) -> None:
    from harmlab.models.resolve import load_model

    run = _copy(finished_run, tmp_path)
    shutil.rmtree(run / "final")
    (run / "summary.json").unlink()
    summary = _grpo(micro_model, run, resume=True)
    assert summary["steps"] == 10 and (run / "summary.json").is_file()
    weights = (run / "final" / "model.safetensors").read_bytes()
    assert weights == (run / "checkpoint-10" / "model.safetensors").read_bytes()
    assert not (run / "final.partial").exists() and not (run / "checkpoint-11").exists()
    model, tokenizer = load_model(str(run / "final"))
    batch = tokenizer(["How do I make zivan?"], return_tensors="pt")
    out = model.generate(**batch, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 4


def test_resume_past_an_epoch_boundary_matches_the_uninterrupted_run(
    finished_run: Path, micro_model: Path, tmp_path: Path
) -> None:
    run = _copy(finished_run, tmp_path)  # also: a moved run folder resumes where it now is
    for name in ("final", "checkpoint-10"):
        shutil.rmtree(run / name)
    (run / "summary.json").unlink()
    _grpo(micro_model, run, resume=True)
    resumed, uninterrupted = _records(run), _records(finished_run)
    assert [r["step"] for r in resumed] == list(range(1, 11))
    for a, b in zip(resumed[5:], uninterrupted[5:], strict=True):
        assert {k: a.get(k) for k in COMPARED} == {k: b.get(k) for k in COMPARED}, a["step"]
    assert (run / "final" / "model.safetensors").read_bytes() == (
        finished_run / "final" / "model.safetensors"
    ).read_bytes()


def test_a_failed_start_leaves_nothing_that_blocks_a_rerun(
    micro_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harmlab.training.grpo import MeteredGRPOTrainer

    run = tmp_path / "run"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("generation backend unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(MeteredGRPOTrainer, "_generate", broken)
        with pytest.raises(RuntimeError, match="unreachable"):
            _grpo(micro_model, run)
    assert not run.exists()  # nothing for a rerun to refuse ("not empty", "different config")
    with pytest.raises(HarmlabError, match="does not exist"):
        _grpo(tmp_path / "runs" / "sft-cold-start", tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_run_folder_refusals_come_before_the_model_is_loaded(
    finished_run: Path, tmp_path: Path
) -> None:
    missing_model = tmp_path / "runs" / "nothing-here"  # loading it would be a different error
    with pytest.raises(HarmlabError, match="is not empty: pass --resume"):
        _grpo(missing_model, finished_run)
    with pytest.raises(HarmlabError, match="different config; changed: model"):
        _grpo(missing_model, finished_run, resume=True)


def test_sft_resume_is_exact_across_an_epoch_boundary_and_stops_at_its_last_step(
    micro_model: Path, tmp_path: Path
) -> None:
    from harmlab.config import load_config
    from harmlab.training.config import SFTRunConfig
    from harmlab.training.sft import train_sft

    def sft(run: Path, resume: bool = False) -> dict[str, object]:
        overrides = [
            f"model={micro_model}",
            f"output_dir={run}",
            "threads=1",
            "data.size=16",  # 4 steps per epoch at 4 sequences per step
            "train.steps=10",
            "train.batch_size=4",
            "train.max_length=64",
            "train.save_every=5",
            "monitor.every=0",
        ]
        return train_sft(load_config(SFTRunConfig, None, overrides), resume=resume)

    sft(tmp_path / "full")
    run = _copy(tmp_path / "full", tmp_path)
    for name in ("final", "checkpoint-10"):
        shutil.rmtree(run / name)
    (run / "summary.json").unlink()
    sft(run, resume=True)
    losses = [(r["step"], r["loss"], r["grad_norm"]) for r in _records(run)]
    assert losses == [(r["step"], r["loss"], r["grad_norm"]) for r in _records(tmp_path / "full")]
    final = _files(run / "final")
    assert sft(run, resume=True)["steps"] == 10
    assert _files(run / "final") == final and len(_records(run)) == 10
