"""`reproduce --plan` lists the stages without running or pretraining anything; stage workers
die with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmlab import HarmlabError
from harmlab.cli import app
from harmlab.experiments.runner import ReproduceOptions, make_plan, plan_rows
from harmlab.models.embedded import tiny_model_folder


def test_plan_lists_every_stage_and_builds_nothing(tmp_path: Path, isolated_cache: Path) -> None:
    out = tmp_path / "out"
    options = ReproduceOptions(quick=True, out=out, world_seed=2)
    stage_plan = make_plan(options, build_base=False)
    assert stage_plan.base_models == {2: tiny_model_folder(2)}  # the key, computed, not built
    done = stage_plan.stages[0].stage
    stage_plan.store.run(done, lambda folder: None)  # as if a former run completed it

    result = CliRunner().invoke(
        app, ["reproduce", "--plan", "--quick", "--world-seed", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"world 2: base model {tiny_model_folder(2)} (to pretrain)"
    rows = plan_rows(stage_plan)
    assert len(lines) == len(rows) + 2 and lines[-1].startswith(f"{len(rows)} stages: ")
    for line, row in zip(lines[1:], rows, strict=False):
        reused = row.folder == stage_plan.store.folder(done)
        assert line.split()[1:3] == ["reuse" if reused else "run", row.kind]
        assert f"  world 2  seed {row.seed}  " in line
        assert line.endswith(str(row.folder)) and ", ".join(row.arms) in line
    # one SFT on the oracle data, one on the curated data, each shared by every arm it starts
    assert [row.kind for row in rows].count("sft") == 2
    assert [row.kind for row in rows].count("curate") == 1
    assert sum(row.reused for row in rows) == 1
    # nothing pretrained, trained or evaluated: no model in the cache, one (faked) stage folder
    assert not isolated_cache.exists() or not any(isolated_cache.iterdir())
    folders = [p.name for p in (out / "stages").iterdir() if not p.name.startswith(".")]
    assert folders == [done.folder_name]  # (dot files: the stage store's lock files)


def test_world_seeds_plan_each_world_with_its_own_base_model(
    tmp_path: Path, isolated_cache: Path
) -> None:
    out = tmp_path / "out"
    args = ["reproduce", "--plan", "--quick", "--only", "E3", "--world-seeds", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == [
        f"world 0: base model {tiny_model_folder(0)} (to pretrain)",
        f"world 1: base model {tiny_model_folder(1)} (to pretrain)",
    ]
    one = plan_rows(make_plan(ReproduceOptions(quick=True, only="E3", out=out), build_base=False))
    stage_lines = lines[2:-1]
    assert len(stage_lines) == 2 * len(one)  # every stage again in the second world
    for world in ("world 0", "world 1"):
        assert sum(f"  {world}  " in line for line in stage_lines) == len(one)
    assert not isolated_cache.exists() or not any(isolated_cache.iterdir())  # nothing pretrained


def test_category_rotation_plans_one_world_per_category(tmp_path: Path) -> None:
    from harmlab.world.categories import CATEGORY_NAMES

    options = ReproduceOptions(quick=True, only="E3", out=tmp_path, rotate_categories=True)
    stage_plan = make_plan(options, build_base=False)
    assert [w.held_out_category for w in stage_plan.worlds] == list(CATEGORY_NAMES)
    assert {row.world for row in plan_rows(stage_plan)} == {
        f"world 0 · held out {c}" for c in CATEGORY_NAMES
    }
    assert len(stage_plan.base_models) == 1  # rotation keeps the corpus, so the base model
    both = ReproduceOptions(rotate_categories=True, held_out_category=CATEGORY_NAMES[0])
    with pytest.raises(HarmlabError, match="--rotate-categories"):
        make_plan(both, build_base=False)
    with pytest.raises(HarmlabError, match="--held-out-category 'nope' is not a category"):
        make_plan(ReproduceOptions(held_out_category="nope"), build_base=False)


WORKER_SCRIPT = """
import os, sys, time
from harmlab.experiments.runner import stage_pool
pool = stage_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
pool.submit(time.sleep, 300)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_killed_parent_leaves_no_stage_worker_running() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    try:
        assert _alive(worker)
        parent.kill()
        parent.wait()
        for _ in range(300):  # polled, not timed: the worker notices within a second or so
            if not _alive(worker):
                break
            time.sleep(0.1)
        assert not _alive(worker), "the stage worker outlived the killed parent"
    finally:
        parent.kill()
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)  # the test failed: do not leave it behind either


def test_arms_cut_each_experiment_to_the_same_stages(tmp_path: Path) -> None:
    """`--arms` runs a subset of the very stages the whole experiment runs (same keys, so the
    demo's stages are reused by `reproduce --quick`), with only the comparisons it can state."""
    demo = ["base", "rl-control", "rl-blocklist"]
    whole = make_plan(ReproduceOptions(quick=True, only="E1", out=tmp_path), build_base=False)
    cut = make_plan(
        ReproduceOptions(quick=True, only="E1", arms=",".join(demo), out=tmp_path),
        build_base=False,
    )
    (experiment,) = cut.experiments
    assert [arm.name for arm in experiment.arms] == demo
    assert experiment.comparisons and all({c.a, c.b} <= set(demo) for c in experiment.comparisons)
    dropped = [c for c in whole.experiments[0].comparisons if not {c.a, c.b} <= set(demo)]
    assert len(experiment.comparisons) + len(dropped) == len(whole.experiments[0].comparisons)
    cut_keys = {item.stage.key for item in cut.stages}
    assert cut_keys < {item.stage.key for item in whole.stages}
    assert [row.kind for row in plan_rows(cut)].count("grpo") == 2


def test_arms_naming_no_arm_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HarmlabError, match="--arms: 'rl-nope' is no arm of the selected"):
        make_plan(ReproduceOptions(only="E1", arms="rl-nope", out=tmp_path), build_base=False)
    result = CliRunner().invoke(app, ["reproduce", "--plan", "--only", "E3", "--arms", "base"])
    assert result.exit_code != 0
    assert "'base' is no arm of the selected experiments; arms: hybrid," in str(result.exception)
