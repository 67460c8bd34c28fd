"""The command line: help on every command, world sampling, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from harmlab.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command", [[], ["world", "sample"], ["pretrain"], ["generate"], ["card"], ["judge", "score"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_world_sample_shows_prompts_and_a_graded_response() -> None:
    result = runner.invoke(
        app, ["world", "sample", "--family", "harmful", "--kind", "comply", "--n", "2"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("gold: answer discloses steps") == 2


def test_world_sample_json_lines() -> None:
    args = ["world", "sample", "--json", "--family", "benign", "--kind", "solve", "--n", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3 and len({line["id"] for line in lines}) == 3
    for line in lines:
        assert line["family"] == "benign" and line["split"] == "test" and line["kind"] == "solve"
        assert line["response"].startswith("<think>") and isinstance(line["answer"], int)
        assert line["gold"]["correct"] is True and line["gold"]["answer"]["harmful"] is False
        assert {"think", "answer"} <= set(line["gold"])


def test_world_sample_json_without_a_response() -> None:
    result = runner.invoke(app, ["world", "sample", "--json", "--split", "heldout_test"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5 and all(line["held_out"] for line in lines)
    assert all(line["response"] is None and line["gold"] is None for line in lines)


def _harmlab(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HARMLAB_ALLOW_NETWORK"}
    return subprocess.run(
        [sys.executable, "-m", "harmlab", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["generate", "--model", "/nonexistent", "hi"],
            "model folder '/nonexistent' does not exist",
        ),
        (["generate", "--model", "someorg/somemodel", "hi"], "--allow-network"),
        (["world", "sample", "--split", "nope"], "unknown split 'nope'"),
    ],
)
def test_user_errors_are_one_line_and_non_zero(args: list[str], message: str) -> None:
    result = _harmlab(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
