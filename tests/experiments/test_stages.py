"""Stages run once per key, rerun when anything upstream changes, and never count half-done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harmlab.experiments.stages import MARKER, Stage, StageStore


def _counting_work(calls: list[Path]) -> Callable[[Path], None]:
    def work(folder: Path) -> None:
        calls.append(folder)
        (folder / "out.txt").write_text("done")

    return work


def test_a_completed_stage_is_reused(tmp_path: Path) -> None:
    store, calls = StageStore(tmp_path), list[Path]()
    stage = Stage("sft", {"lr": 1e-4}, seed=0)
    first = store.run(stage, _counting_work(calls))
    second = store.run(stage, _counting_work(calls))
    assert len(calls) == 1 and not first.reused and second.reused
    assert first.folder == second.folder and (second.folder / "out.txt").read_text() == "done"


def test_config_seed_and_upstream_changes_make_new_stages() -> None:
    sft = Stage("sft", {"lr": 1e-4})
    grpo = Stage("grpo", {"beta": 0.04}, inputs=(sft,))
    assert Stage("sft", {"lr": 2e-4}).key != sft.key
    assert Stage("sft", {"lr": 1e-4}, seed=1).key != sft.key
    assert Stage("grpo", {"beta": 0.04}, inputs=(Stage("sft", {"lr": 2e-4}),)).key != grpo.key
    assert Stage("grpo", {"beta": 0.04}, inputs=(Stage("sft", {"lr": 1e-4}),)).key == grpo.key


def test_a_stage_that_crashed_is_not_done_and_runs_again(tmp_path: Path) -> None:
    store, calls = StageStore(tmp_path), list[Path]()
    stage = Stage("grpo")

    def crash(folder: Path) -> None:
        (folder / "partial.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.run(stage, crash)
    assert not store.is_done(stage)
    result = store.run(stage, _counting_work(calls))
    assert len(calls) == 1 and not result.reused
    assert (result.folder / "partial.txt").exists()  # work may resume from what it left


@pytest.mark.parametrize(
    "marker",
    ["{not json", '{"name": "grpo", "key": "another", "seed": 0, "inputs": [], "seconds": 1}'],
    ids=["unreadable marker", "marker of another stage"],
)
def test_a_marker_that_does_not_record_this_stage_does_not_count(
    tmp_path: Path, marker: str
) -> None:
    store, calls = StageStore(tmp_path), list[Path]()
    stage = Stage("grpo", {"beta": 0.04}, inputs=(Stage("sft"),))
    store.folder(stage).mkdir(parents=True)
    (store.folder(stage) / MARKER).write_text(marker)
    assert not store.is_done(stage)
    result = store.run(stage, _counting_work(calls))
    assert len(calls) == 1 and not result.reused and store.is_done(stage)
    assert store.run(stage, _counting_work(calls)).reused and len(calls) == 1
