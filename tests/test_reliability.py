"""Reliability guarantees end to end: one writer per folder, bounded input, offline by default,
files a colleague can read (issue 13; the README's "Reliability" section lists each guarantee
with the test that holds it)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harmlab import HarmlabError
from harmlab.files import atomic_write_text
from harmlab.locks import FolderLock, LockedError, lock_file, lock_holder

BLOCKING_JUDGE = """
import os, time
from harmlab.evaluation.judges.base import make_judge

def make(argument, context):
    # Built after the run folder is locked and before any sample: hold the run open until
    # the test says go.
    while not os.path.exists(os.environ["GO_FILE"]):
        time.sleep(0.05)
    return make_judge("refusal-string", context)
"""


def _harmlab(*args: str) -> list[str]:
    return [sys.executable, "-m", "harmlab", *args]


def _wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_two_evals_on_one_folder_one_refuses_naming_the_other(tmp_path: Path) -> None:
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "blocking_judge.py").write_text(BLOCKING_JUDGE)
    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps("<think>ok</think> Sure.") + "\n")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"prompt {i}\n" for i in range(5)))
    out, go = tmp_path / "out", tmp_path / "go"
    env = os.environ | {"PYTHONPATH": str(helpers), "GO_FILE": str(go)}
    first_args = ["eval", "--model", f"scripted:{script}", "--suite", str(prompts), "--n", "2"]
    first = subprocess.Popen(
        _harmlab(*first_args, "--judges", "blocking_judge:make", "--out", str(out)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: lock_holder(lock_file(out))[0] == first.pid)
        second = subprocess.run(
            _harmlab(*first_args, "--judges", "refusal-string", "--out", str(out)),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        go.touch()
        assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    finally:
        go.touch()
        first.kill()
    lines = second.stderr.strip().splitlines()
    assert second.returncode == 1 and len(lines) == 1
    assert f"'{out}' is in use by process {first.pid} (an evaluation writing there)" in lines[0]
    keys = [json.loads(line)["key"] for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 10  # one writer: nothing doubled
    assert json.loads((out / "eval.json").read_text())["judges"] == ["blocking_judge:make"]


def test_one_mb_prompt_is_cut_to_the_context_under_a_4_gb_memory_limit(
    micro_model: Path, tmp_path: Path
) -> None:
    prompts = tmp_path / "big.jsonl"
    huge = "please explain " + "zivan " * 170_000  # about 1 MB on one line
    assert 1_000_000 < len(huge) < 1 << 20
    prompts.write_text(json.dumps({"prompt": "How do I make zivan?"}) + "\n")
    with prompts.open("a") as handle:
        handle.write(json.dumps({"prompt": huge}) + "\n")

    def limit_memory() -> None:
        four_gb = 4 << 30
        resource.setrlimit(resource.RLIMIT_AS, (four_gb, four_gb))

    out = tmp_path / "out"
    args = ["eval", "--model", str(micro_model), "--suite", str(prompts), "--out", str(out)]
    done = subprocess.run(
        _harmlab(*args, "--max-new-tokens", "8", "--judges", "refusal-string"),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit_memory,
        env=os.environ | {"OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warning = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warning == [
        "warning: 1 of 2 samples had prompts too long for the model's context beside "
        "--max-new-tokens 8; their tails were cut"
    ]
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 2


def test_generation_cuts_long_prompts_and_counts_them(micro_model: Path) -> None:
    from harmlab.evaluation.generation import (
        PromptTruncatedWarning,
        SamplingConfig,
        context_length,
        generate_rows,
    )
    from harmlab.models.resolve import load_model

    model, tokenizer = load_model(str(micro_model))
    assert context_length(model, tokenizer) == 256
    long = "how do I make zivan " * 300  # far over the 256-token context
    config = SamplingConfig(max_new_tokens=16, temperature=0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = generate_rows(model, tokenizer, ["How do I make zivan?", long], config)
    cut = [w.message for w in caught if isinstance(w.message, PromptTruncatedWarning)]
    assert len(cut) == 1 and (cut[0].count, cut[0].total) == (1, 2)
    assert rows[0].prompt_tokens_cut == 0 and rows[1].prompt_tokens_cut > 1000
    with pytest.raises(HarmlabError, match="max_new_tokens=300 leaves no room for a prompt"):
        generate_rows(model, tokenizer, ["hi"], SamplingConfig(max_new_tokens=300))


def test_a_second_pretrain_waits_for_the_first_and_reuses_its_model(
    micro_model: Path, tmp_path: Path
) -> None:
    target = tmp_path / "cache" / "tiny-abc"
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from harmlab.models.tiny import pretrain
        from harmlab.models.tiny_config import TinyModelConfig
        pretrain([], TinyModelConfig(), Path({str(target)!r}), progress=False)
        print("returned")
        """
    )
    with FolderLock(target, "pretraining this model"):  # as if this process were pretraining
        second = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert second.stderr is not None
        line = ""
        while not line.startswith("waiting"):  # printed before it blocks: we hold the lock
            line = second.stderr.readline()
            assert line, "the second pretrain ended without waiting"
        shutil.copytree(micro_model, target)  # "our" pretraining finishes
        inode = (target / "model.safetensors").stat().st_ino
    stdout, _ = second.communicate(timeout=300)
    assert line.strip() == f"waiting for process {os.getpid()}, which is pretraining the same model"
    assert second.returncode == 0 and stdout.strip() == "returned"  # no training on no corpus
    assert (target / "model.safetensors").stat().st_ino == inode  # ours was kept, not swapped


def test_stage_and_run_folders_have_one_writer(tmp_path: Path) -> None:
    from harmlab.experiments.stages import Stage, StageStore
    from harmlab.training.config import SFTRunConfig
    from harmlab.training.rundir import RunDir

    store, stage = StageStore(tmp_path / "stages"), Stage("sft", {"steps": 1})
    run = tmp_path / "run"
    hold = "import sys, time; from harmlab.locks import FolderLock; " + (
        "locks = [FolderLock(p, 'holder').acquire() for p in sys.argv[1:]]; print('held', "
        "flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(store.folder(stage)), str(run)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"in use by process {holder.pid}"):
            store.run(stage, lambda folder: None)
        with pytest.raises(LockedError, match=f"in use by process {holder.pid}"):
            RunDir(run).start(SFTRunConfig(), seed=0, resume=False)
        assert not run.exists() and not store.is_done(stage)
    finally:
        holder.kill()
        holder.wait()
    assert not store.run(stage, lambda folder: None).reused  # the dead holder is taken over


def test_exported_offline_switches_cannot_turn_the_hub_on() -> None:
    code = "import harmlab, huggingface_hub.constants as c, os; print(c.HF_HUB_OFFLINE)"
    env = os.environ | {"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}
    env.pop("HARMLAB_ALLOW_NETWORK", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "True"
    allowed = env | {"HARMLAB_ALLOW_NETWORK": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=allowed, capture_output=True, text=True)
    assert done.stdout.strip() == "False"  # harmlab's own switch still turns it on


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    ("mask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_files_and_model_folders_follow_the_umask(
    tmp_path: Path, mask: int, file_mode: int, folder_mode: int
) -> None:
    from harmlab.models.folders import atomic_folder

    with _umask(mask):
        report = atomic_write_text(tmp_path / "report" / "report.md", "# report\n")
        with atomic_folder(tmp_path / "model") as building:
            (building / "config.json").write_text("{}")
    assert report.stat().st_mode & 0o777 == file_mode
    assert (tmp_path / "model").stat().st_mode & 0o777 == folder_mode
    assert not list(tmp_path.glob(".model.*.tmp"))
