"""Data-parallel GRPO on CPU: two processes started by `accelerate launch` train one model and
write one run folder in the single-process layout, with every step showing both processes.

accelerate 1.15's `--cpu` launcher starts a single process (several need mpirun), so CPU data
parallelism goes through its torchrun launcher (`--multi_gpu`); without a GPU the ranks meet
over gloo. The `--cpu` form is refused with that advice (tests/training/test_arguments.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # two processes each importing TRL: about a minute on 2 cores


def free_port() -> int:
    """A port nobody listens on now (other test runs may hold accelerate's default 29500)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_processes_train_one_model_into_one_run_folder(
    micro_model: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    config = tmp_path / "grpo.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": str(micro_model),
                "output_dir": str(run),
                "threads": 1,
                "prompts": {"size": 16},
                "rewards": [{"name": "format", "weight": 0.5}, {"name": "accuracy"}],
                "train": {
                    "steps": 2,
                    "prompts_per_step": 4,
                    "num_generations": 2,
                    "max_completion_length": 8,
                },
                "monitor": {"every": 1, "probes_per_family": 1, "max_new_tokens": 4},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "HARMLAB_ALLOW_NETWORK"}
    env["OMP_NUM_THREADS"] = "1"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
    done = subprocess.run(
        [
            *launch,
            "--num_processes=2",
            f"--main_process_port={free_port()}",
            "--num_machines=1",
            "--mixed_precision=no",
            "--dynamo_backend=no",
            "-m",
            "harmlab",
            "train",
            "grpo",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((run / "run.json").read_text())["world_size"] == 2
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]  # one writer: no duplicated records
    for record in records:
        assert record["processes"] == 2  # both ranks generated their share of the step
        assert record["completions"] == 4 * 2  # the step's global batch, as on one process
        assert "probe/gold_reward" in record and "reward" in record
    # One run folder, no stray per-process output (hidden: the run's lock file; the test cache).
    written = {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")}
    assert written - {"harmlab-cache"} == {"grpo.yaml", "run"}
    assert (run / "final" / "model.safetensors").is_file()
    assert json.loads((run / "summary.json").read_text())["steps"] == 2
    assert done.stdout.count("trained 2 steps") == 1  # the main process reports
