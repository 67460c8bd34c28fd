"""Bad input through the command line: one line on stderr, a non-zero exit, no traceback, and
nothing left behind that blocks a rerun (the same command fails the same way again).

Each case runs in-process through `harmlab.cli.run`, the function the `harmlab` script calls,
so a traceback would surface here as an exception. Every case fails before any model loads
(model cases fail on the folder check, before transformers reads a weight).
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harmlab.cli import run

GRPO = ["train", "grpo", "--config", "configs/grpo-from-base.yaml"]
SFT = ["train", "sft", "--config", "configs/sft-cold-start.yaml"]
EVAL = ["eval", "--model", "tiny", "--suite", "world", "--out", "{tmp}/out"]
ROOT = Path(__file__).resolve().parents[1]


def _files(tmp: Path) -> None:
    """Every broken input the cases below point at."""
    (tmp / "latin1.jsonl").write_bytes(b'{"prompt": "caf\xe9"}\n')
    (tmp / "header.csv").write_bytes(b"pr\xffompt\nhello\n")
    (tmp / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp / "repeated.csv").write_text(
        "id,prompt,type,label,focus,note\n1,a,homonyms,safe,,\n1,b,homonyms,safe,,\n"
    )
    (tmp / "long.txt").write_text("short\n" + "x" * ((1 << 20) + 1) + "\n")
    (tmp / "dup.yaml").write_text("train:\n  steps: 3\n  steps: 4\n")
    (tmp / "latin1.yaml").write_bytes(b"seed: 1\noutput_dir: caf\xe9\n")
    (tmp / "steps.yaml").write_text("model: tiny\ntrain:\n  max_length: 9\n  steps: 0\n")
    only_config = tmp / "only-config"
    only_config.mkdir()
    (only_config / "config.json").write_text('{"model_type": "llama"}')
    bad_config = tmp / "bad-config"
    bad_config.mkdir()
    (bad_config / "config.json").write_text('{"model_type": "llama",')
    for name, weights in {
        "truncated": b"\x40\x00\x00\x00\x00\x00\x00\x00"
        + b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'.ljust(64)
        + b"\x00" * 8,
        "garbage": b"\xff" * 64,
    }.items():
        folder = tmp / name
        folder.mkdir()
        (folder / "config.json").write_text('{"model_type": "llama"}')
        (folder / "tokenizer.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(weights)
    for name, text in {"corrupt-summary": "{not json", "empty-summary": "[]"}.items():
        (tmp / name).mkdir()
        (tmp / name / "summary.json").write_text(text)


CASES: list[tuple[str, list[str], str]] = [
    # flags out of range
    ("n-0", [*EVAL, "--n", "0"], "--n is 0; it must be >= 1"),
    ("temperature-neg", [*EVAL, "--temperature", "-1"], "--temperature is -1.0; it must be >= 0"),
    ("temperature-nan", [*EVAL, "--temperature", "nan"], "--temperature must be a finite"),
    ("top-p-2", [*EVAL, "--top-p", "2"], "--top-p is 2.0; it must be in (0, 1]"),
    ("top-p-0", [*EVAL, "--top-p", "0"], "--top-p is 0.0; it must be in (0, 1]"),
    ("max-new-0", [*EVAL, "--max-new-tokens", "0"], "--max-new-tokens is 0; it must be >= 1"),
    ("batch-0", [*EVAL, "--batch-size", "0"], "--batch-size is 0; it must be >= 1"),
    ("seed-neg", [*EVAL, "--seed", "-1"], "--seed is -1; it must be >= 0"),
    ("limit-0", [*EVAL, "--limit", "0"], "'--limit': Input should be greater than or equal to 1"),
    ("limit-neg", [*EVAL, "--limit", "-1"], "'--limit': Input should be greater than or equal"),
    ("n-text", [*EVAL, "--n", "many"], "'--n'"),
    ("category", [*EVAL, "--held-out-category", "magic"], "'magic' is not a category; valid:"),
    ("world-neg", [*EVAL, "--world-seed", "-1"], "'--world-seed'"),
    ("generate-n-0", ["generate", "--n", "0", "hi"], "--n is 0; it must be >= 1"),
    ("generate-new-0", ["generate", "--max-new-tokens", "0", "hi"], "--max-new-tokens is 0"),
    ("world-n-0", ["world", "sample", "--n", "0"], "'--n': Input should be greater than or"),
    ("reproduce-threads", ["reproduce", "--threads", "-1"], "'--threads': Input should be"),
    ("reproduce-jobs", ["reproduce", "--jobs", "0"], "'--jobs': Input should be greater"),
    ("reproduce-seeds", ["reproduce", "--seeds", "0"], "'--seeds': Input should be greater"),
    ("reproduce-only-comma", ["reproduce", "--only", ","], "--only ',' names no experiment"),
    ("reproduce-only-unknown", ["reproduce", "--only", "E99"], "unknown experiment E99"),
    ("unknown-flag", [*EVAL, "--temprature", "1"], "No such option: --temprature"),
    ("unknown-command", ["evaluate"], "No such command 'evaluate'"),
    # judges and suites resolved before any generation
    ("judges-comma", [*EVAL, "--judges", ","], "--judges ',' names no judge"),
    ("judge-unknown", [*EVAL, "--judges", "gold,nope"], "unknown judge 'nope'"),
    ("trusted-missing", [*EVAL, "--trusted", "gold"], "trusted judge 'gold' is not among"),
    ("suite-missing", [*EVAL[:4], "{tmp}/none.jsonl", *EVAL[5:]], "unknown suite"),
    ("format-unknown", [*EVAL, "--format", "nope"], "unknown format 'nope'"),
    # training configs: every value checked before any model loads
    ("steps-0", [*GRPO, "train.steps=0"], "'train.steps' is 0; it must be >= 1"),
    ("steps-neg", [*GRPO, "train.steps=-3"], "'train.steps' is -3; it must be >= 1"),
    ("lr-neg", [*GRPO, "train.learning_rate=-1e-3"], "'train.learning_rate' is -0.001"),
    ("lr-nan", [*GRPO, "train.learning_rate=nan"], "'train.learning_rate' must be a finite"),
    ("gens-0", [*GRPO, "train.num_generations=0"], "'train.num_generations' is 0"),
    ("gens-1", [*GRPO, "train.num_generations=1"], "'train.num_generations' is 1"),
    ("grpo-temp-0", [*GRPO, "train.temperature=0"], "'train.temperature' is 0.0; it must be > 0"),
    ("completion-0", [*GRPO, "train.max_completion_length=0"], "'train.max_completion_length'"),
    ("beta-neg", [*GRPO, "train.beta=-1"], "'train.beta' is -1.0; it must be >= 0"),
    ("epsilon-neg", [*GRPO, "train.epsilon=-0.5"], "'train.epsilon' is -0.5"),
    ("weight-inf", [*GRPO, "rewards.0.weight=.inf"], "'rewards.0.weight' must be a finite"),
    ("sft-batch-0", [*SFT, "train.batch_size=0"], "'train.batch_size' is 0; it must be >= 1"),
    ("warmup-5", [*SFT, "train.warmup_ratio=5"], "'train.warmup_ratio' is 5.0; it must be in"),
    ("override-unknown", [*GRPO, "train.stpes=3"], "unknown key 'train.stpes'"),
    ("config-missing", ["train", "sft", "--config", "{tmp}/none.yaml"], "is neither a file nor"),
    ("config-dup", ["train", "sft", "--config", "{tmp}/dup.yaml"], "dup.yaml:line 3: key 'steps'"),
    ("config-utf8", ["train", "sft", "--config", "{tmp}/latin1.yaml"], "line 2: not UTF-8"),
    ("config-line", ["train", "sft", "--config", "{tmp}/steps.yaml"], "steps.yaml:line 4:"),
    # prompt files
    ("jsonl-utf8", [*EVAL[:4], "{tmp}/latin1.jsonl", *EVAL[5:]], "latin1.jsonl:line 1: not UTF-8"),
    ("csv-header", [*EVAL[:4], "{tmp}/header.csv", *EVAL[5:]], "header.csv:line 1: malformed"),
    ("parquet", [*EVAL[:4], "{tmp}/corrupt.parquet", *EVAL[5:]], "not a readable Parquet file"),
    ("long-line", [*EVAL[:4], "{tmp}/long.txt", *EVAL[5:]], "long.txt:line 2: line longer than"),
    (
        "repeated-id",
        [*EVAL[:4], "{tmp}/repeated.csv", "--format", "xstest", *EVAL[5:]],
        "repeated.csv:line 3: id '1' repeats the one at line 2",
    ),
    # model folders
    ("only-config", ["generate", "--model", "{tmp}/only-config", "hi"], "has a config.json but"),
    ("bad-config", [*EVAL[:2], "{tmp}/bad-config", *EVAL[3:]], "config.json' (the model's con"),
    ("truncated", [*EVAL[:2], "{tmp}/truncated", *EVAL[3:]], "model.safetensors' is truncated"),
    ("garbage", ["generate", "--model", "{tmp}/garbage", "hi"], "is not a safetensors file"),
    ("model-missing", ["generate", "--model", "{tmp}/none/x", "hi"], "does not exist"),
    ("hub-offline", ["generate", "--model", "someorg/somemodel", "hi"], "--allow-network"),
    # finished runs
    ("summary-corrupt", ["eval", "show", "{tmp}/corrupt-summary"], "not a readable evaluation"),
    ("summary-shape", ["eval", "show", "{tmp}/empty-summary"], "not a readable evaluation"),
    ("summary-missing", ["eval", "show", "{tmp}/none"], "has no summary.json"),
]


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding the shipped configs and the broken inputs."""
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    # A case that got as far as pretraining the tiny model would have failed too late.
    monkeypatch.setattr("harmlab.models.tiny.pretrain", _raise(AssertionError("pretrains")))
    return tmp_path


def _one_line_failure(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return code, lines[0]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_a_rerun_fails_the_same_way(
    workdir: Path, args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{tmp}", str(workdir)) for a in args]
    code, line = _one_line_failure(args, capsys)
    assert code != 0 and line.startswith("error: ") and fragment in line, line
    assert _one_line_failure(args, capsys) == (code, line)  # nothing left blocks a rerun
    assert not (workdir / "out" / "samples.jsonl").exists()


def _raise(error: BaseException) -> Callable[..., None]:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    return fail


@pytest.mark.parametrize(
    ("target", "code", "fragment"),
    [
        ("harmlab.locks.os.open", errno.EROFS, "cannot create the lock file"),
        ("harmlab.files.os.replace", errno.ENOSPC, "cannot write '{tmp}/out/eval.json'"),
    ],
    ids=["read-only", "disk-full"],
)
def test_an_output_folder_that_refuses_writes_is_one_line(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    code: int,
    fragment: str,
) -> None:
    error = OSError(code, os.strerror(code))
    monkeypatch.setattr(target, _raise(error))
    args = [a.replace("{tmp}", str(workdir)) for a in EVAL]
    status, line = _one_line_failure(args, capsys)
    assert status == 1 and fragment.replace("{tmp}", str(workdir)) in line
    assert os.strerror(code) in line


def test_an_unreachable_hub_fails_at_once(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARMLAB_ALLOW_NETWORK", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    status, line = _one_line_failure(["generate", "--model", "someorg/somemodel", "hi"], capsys)
    assert status == 1 and "http://127.0.0.1:9 cannot be reached" in line


def test_ctrl_c_exits_130_and_prints_the_resume_command(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("harmlab.evaluation.harness.run_eval", _raise(KeyboardInterrupt()))
    args = [a.replace("{tmp}", str(workdir)) for a in EVAL]
    assert run(args) == 130
    err = capsys.readouterr().err.strip()
    assert err == f"interrupted; to resume: harmlab {' '.join(args)} --resume"


def test_a_bad_model_folder_fails_before_torch_is_imported(tmp_path: Path) -> None:
    """`generate` checks the model folder first: the error costs no torch import."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from harmlab.cli import run\n"
        f"status = run(['generate', '--model', {str(tmp_path / 'none' / 'x')!r}, 'hi'])\n"
        "print(status, 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "does not exist" in done.stderr
    assert done.stdout.split() == ["1", "False", "False"]
