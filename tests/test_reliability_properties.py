"""Property-based tests (hypothesis): arbitrary bytes and structures given to the prompt
loaders, the config loader, the R1 format parser and the judges never raise anything but
harmlab's own one-line error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlab import HarmlabError
from harmlab.config import load_config
from harmlab.data import FORMATS, load_prompts
from harmlab.reasoning_format import THINK_CLOSE, THINK_OPEN, split_response
from harmlab.training.config import GRPORunConfig

PROPERTY = settings(
    max_examples=80,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.too_slow],
)

# Bytes biased toward what breaks parsers: separators, quotes, brackets, BOMs, bad UTF-8.
SHARDS = [b"\n", b"\r\n", b",", b'"', b"{", b"}", b"[", b"]", b":", b"\xef\xbb\xbf", b"\xff",
          b"\xc3", b"prompt", b"id", b"label", b"safe", b"null", b"\x00", b"  "]  # fmt: skip
NOISY_BYTES = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(st.sampled_from(SHARDS), st.binary(max_size=8)), max_size=60).map(b"".join),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
ROW_KEYS = st.sampled_from(["prompt", "id", "label", "type", "focus", "note", "x"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per module: every example overwrites the same input file."""
    return tmp_path_factory.mktemp("property")


def _write(folder: Path, suffix: str, data: bytes) -> Path:
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


def _loads_or_refuses(path: Path, mapping: str, skip_bad: bool) -> None:
    try:
        loaded = load_prompts(path, FORMATS.get(mapping), skip_bad=skip_bad)
    except HarmlabError as error:
        assert "\n" not in str(error)
        return
    ids = [record.id for record in loaded.records]
    assert loaded.records and len(ids) == len(set(ids))  # usable, and ids key samples uniquely


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".txt", ".parquet"])
@PROPERTY
@given(data=NOISY_BYTES, mapping=st.sampled_from(["prompts", "xstest"]), skip=st.booleans())
def test_prompt_files_of_arbitrary_bytes(
    scratch: Path, suffix: str, data: bytes, mapping: str, skip: bool
) -> None:
    _loads_or_refuses(_write(scratch, suffix, data), mapping, skip)


@PROPERTY
@given(
    rows=st.lists(st.one_of(st.dictionaries(ROW_KEYS, JSON_VALUES, max_size=6), JSON_VALUES),
                  max_size=8),
    mapping=st.sampled_from(["prompts", "xstest", "harmbench"]),
    skip=st.booleans(),
)  # fmt: skip
def test_jsonl_rows_of_arbitrary_structure(
    scratch: Path, rows: list[Any], mapping: str, skip: bool
) -> None:
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    _loads_or_refuses(_write(scratch, ".jsonl", data), mapping, skip)


def _config_or_refusal(path: Path | None, overrides: list[str] = []) -> None:  # noqa: B006
    try:
        load_config(GRPORunConfig, path, overrides)
    except HarmlabError as error:
        assert "\n" not in str(error)


@PROPERTY
@given(data=NOISY_BYTES)
def test_config_files_of_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    _config_or_refusal(_write(scratch, ".yaml", data))


CONFIG_KEYS = st.sampled_from(
    ["model", "seed", "threads", "train", "prompts", "rewards", "monitor", "steps", "beta",
     "name", "weight", "params", "mix", "files", "size", "every", "num_generations"]
)  # fmt: skip
YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CONFIG_KEYS, inner, max_size=4),
    max_leaves=16,
)


@PROPERTY
@given(tree=st.dictionaries(CONFIG_KEYS, YAML_VALUES, max_size=6))
def test_config_structures_near_the_schema(scratch: Path, tree: dict[str, Any]) -> None:
    _config_or_refusal(_write(scratch, ".yaml", yaml.safe_dump(tree).encode()))


@PROPERTY
@given(
    overrides=st.lists(
        st.tuples(
            st.lists(CONFIG_KEYS | st.sampled_from(["0", "1", "9"]), min_size=1, max_size=3),
            st.text(max_size=12),
        ).map(lambda kv: ".".join(kv[0]) + "=" + kv[1]),
        max_size=3,
    )
)
def test_overrides_of_arbitrary_text(overrides: list[str]) -> None:
    _config_or_refusal(None, overrides)


TAGGED_TEXT = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from([THINK_OPEN, THINK_CLOSE, " ", "\n"])),
    max_size=12,
).map("".join)


@PROPERTY
@given(text=TAGGED_TEXT)
def test_the_r1_parser_never_fails_and_reports_what_it_found(text: str) -> None:
    parsed = split_response(text)
    assert parsed.valid == (not parsed.problems)
    assert THINK_OPEN not in parsed.answer and THINK_CLOSE not in parsed.answer
    if text.count(THINK_OPEN) == 1 and text.count(THINK_CLOSE) == 1 and parsed.valid:
        assert text.strip().startswith(THINK_OPEN) and parsed.answer


@pytest.fixture(scope="module")
def world_records() -> list[Any]:
    from harmlab.data import load_suite
    from harmlab.data.suites import SuiteOptions

    options = SuiteOptions(world_harmful=4, world_held_out=2, world_borderline=2,
                           world_benign_per_difficulty=1)  # fmt: skip
    return list(load_suite("world", options).records)


@pytest.mark.parametrize("spec", ["gold", "refusal-string", "refusal-string:gcg"])
@settings(PROPERTY, max_examples=40)
@given(completions=st.lists(TAGGED_TEXT, min_size=1, max_size=4), pick=st.integers(0, 99))
def test_judges_give_a_verdict_for_any_completion(
    world_records: list[Any], spec: str, completions: list[str], pick: int
) -> None:
    from harmlab.evaluation.judges import Transcript, make_judge

    judge = make_judge(spec)
    record = world_records[pick % len(world_records)]
    transcripts = [Transcript.of(record, text) for text in completions]
    verdicts = judge.judge(transcripts)
    assert len(verdicts) == len(transcripts)
    for verdict in verdicts:
        json.dumps(verdict.as_dict())  # every verdict is a record the EvalLog can write
