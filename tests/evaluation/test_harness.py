"""The harness end to end on the micro model: EvalLog records, summary, CLI, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harmlab import HarmlabError
from harmlab.evaluation.evallog import EvalLog
from harmlab.evaluation.generation import SamplingConfig
from harmlab.evaluation.harness import EvalConfig, run_eval

SLOW_JUDGE = """
import time
from harmlab.evaluation.judges.strings import RefusalStringJudge

class Slow(RefusalStringJudge):
    def judge(self, transcripts):
        time.sleep(0.4)
        return super().judge(transcripts)

def make(argument, context):
    return Slow()
"""


def config(model: Path, **changes: object) -> EvalConfig:
    base: dict[str, object] = {
        "model": str(model),
        "suite": "world",
        "judges": ("gold", "refusal-string"),
        "sampling": SamplingConfig(n=2, temperature=1.0, max_new_tokens=24, batch_size=8),
        "limit": 6,
    }
    return EvalConfig(**(base | changes))  # type: ignore[arg-type]


def test_eval_logs_every_sample_with_every_verdict(micro_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_eval(config(micro_model), out)
    frame = pd.read_json(out / "samples.jsonl", lines=True)
    assert len(frame) == 12 and frame["key"].is_unique
    row = frame.iloc[0]
    for column in ("prompt", "completion", "think", "answer", "seconds", "judge_seconds", "rule"):
        assert column in frame.columns, column
    assert set(row["verdicts"]) == {"gold", "refusal-string"}
    assert {"think", "answer"} <= set(row["verdicts"]["gold"])
    assert summary["trusted"] == "gold" and summary["samples"] == 12
    assert summary["metrics"]["harmful_compliance"]["n"] == 12  # the first 6 prompts are harmful
    assert json.loads((out / "summary.json").read_text())["samples"] == 12
    result = CliRunner().invoke(
        __import__("harmlab.cli", fromlist=["app"]).app, ["eval", "show", str(out)]
    )
    assert result.exit_code == 0 and "harmful_compliance" in result.output


def test_existing_run_needs_resume_and_same_config(micro_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_eval(config(micro_model, limit=2), out)
    with pytest.raises(HarmlabError, match="--resume"):
        run_eval(config(micro_model, limit=2), out)
    with pytest.raises(HarmlabError, match="config differs in limit"):
        run_eval(config(micro_model, limit=3), out, resume=True)
    assert run_eval(config(micro_model, limit=2), out, resume=True)["samples"] == 4


def test_evallog_cuts_a_torn_line(tmp_path: Path) -> None:
    log = EvalLog(tmp_path)
    assert log.start({"a": 1}, resume=False) == set()
    log.append([{"key": "p#0", "x": 1}, {"key": "p#1", "x": 2}])
    with log.samples_path.open("a") as handle:
        handle.write('{"key": "p#2", "x"')  # a crash in the middle of a line
    assert log.start({"a": 1}, resume=True) == {"p#0", "p#1"}
    assert log.samples_path.read_text().endswith('"x": 2}\n')
    with pytest.raises(HarmlabError, match="did not finish"):
        log.summary()


def test_killed_eval_resumes_with_one_record_per_sample(micro_model: Path, tmp_path: Path) -> None:
    package = tmp_path / "helpers" / "slowjudges"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "judge.py").write_text(SLOW_JUDGE)
    out = tmp_path / "run"
    script = textwrap.dedent(f"""
        from harmlab.evaluation.generation import SamplingConfig
        from harmlab.evaluation.harness import EvalConfig, run_eval
        config = EvalConfig(model={str(micro_model)!r}, suite="world-borderline", limit=8,
                            judges=("refusal-string", "slowjudges.judge:make"),
                            sampling=SamplingConfig(n=2, max_new_tokens=16, batch_size=2))
        import sys
        run_eval(config, {str(out)!r}, resume=len(sys.argv) > 1)
    """)
    env = os.environ | {"PYTHONPATH": str(tmp_path / "helpers")}
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    samples = out / "samples.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if samples.exists() and samples.read_text().count("\n") >= 4:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = samples.read_text().count("\n")
    assert 4 <= written < 16, "the run was not killed mid-way"
    before = {row["key"]: row for row in map(json.loads, samples.read_text().splitlines())}
    subprocess.run([sys.executable, "-c", script, "resume"], env=env, check=True)
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys)) == 16
    assert {k.rsplit("#", 1)[1] for k in keys} == {"0", "1"}
    assert all(rows[i] == before[k] for i, k in enumerate(keys) if k in before)
    assert json.loads((out / "summary.json").read_text())["samples"] == 16


def test_eval_command_writes_a_run_folder(micro_model: Path, tmp_path: Path) -> None:
    from harmlab.cli import app

    out = tmp_path / "cli-run"
    args = ["eval", "--model", str(micro_model), "--suite", "world-borderline", "--limit", "3"]
    result = CliRunner().invoke(app, [*args, "--judges", "refusal-string", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "over_refusal" in result.output
    assert len((out / "samples.jsonl").read_text().splitlines()) == 3
    assert json.loads((out / "summary.json").read_text())["trusted"] == "refusal-string"
