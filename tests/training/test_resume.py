"""Crash safety: a GRPO run killed with SIGKILL mid-training and resumed with `--resume` has
contiguous, non-duplicated steps in metrics.jsonl; bad config keys fail in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml


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
