"""Evaluation suites by name: SafetyWorld splits and third-party prompt files.

    harmlab eval --model tiny --suite world-test
    harmlab eval --model smollm2 --suite xstest --data-dir ../shared/data

| suite             | prompts                                                              |
|-------------------|----------------------------------------------------------------------|
| world-test        | test split: harmful requests (trained side of every axis) +          |
|                   | arithmetic 1-4                                                       |
| world-heldout     | heldout_test split: harmful requests held out on each axis in turn,  |
|                   | and arithmetic in each held-out style (the capability controls)      |
| world-borderline  | borderline_test split: innocent uses of blocklist words              |
| world             | the three above together (every axis, both sides; ~340 prompts)      |
| world-axis-attack, world-axis-obfuscation, world-axis-language, world-axis-category |
|                   | one generalization axis, both sides: harmful requests and the        |
|                   | arithmetic capability controls in that axis's styles                 |
| xstest            | XSTest's 450 prompts: 250 safe (borderline), 200 unsafe (harmful)    |
| harmbench, jailbreakbench, strongreject, advbench | that benchmark's file, under the data dir |

A suite is a function `(SuiteOptions) -> PromptSet` in the `SUITES` registry, so a new one is
a new function (`@SUITES.register("name")`, or named as `--suite package.module:function`).
Third-party files are never shipped: they are read from the data dir (`--data-dir`, else
`$HARMLAB_DATA_DIR`) at `<data dir>/<benchmark>/<upstream file name>`. A `--suite` that is a
path to a file is loaded with `--format`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harmlab import HarmlabError
from harmlab.data.formats import FORMATS
from harmlab.data.loaders import load_labelled, load_prompts
from harmlab.data.records import (
    LabelledCompletion,
    LabelledSet,
    PromptRecord,
    PromptSet,
    record_from_world,
)
from harmlab.registry import DOTTED, Registry

if TYPE_CHECKING:
    from harmlab.world import SafetyWorld

XSTEST_MODELS = ("gpt4", "llama2new", "mistralinstruct")
"""The models whose XSTest completions carry human labels in the shared data."""


@dataclass(frozen=True)
class SuiteOptions:
    """What a suite builder may need."""

    data_dir: Path | None = None
    """Folder holding third-party data (one subfolder per benchmark)."""
    world_seed: int = 0
    """Seed of the SafetyWorld that world suites draw from."""
    held_out_category: str | None = None
    """The category that world's rotation holds out (None: the world's default)."""
    prompt_seed: int = 0
    """Seed of the draw from a world split."""
    world_harmful: int = 96
    """world-test / world: harmful requests of the training categories."""
    world_held_out: int = 96
    """world-heldout / world: harmful requests held out on one axis (the axes take turns)."""
    world_capability_per_difficulty: int = 16
    """world-heldout / world: arithmetic per difficulty 1-4 in the held-out styles (capability
    controls; the attack, obfuscation and language axes take turns)."""
    world_borderline: int = 24
    """world-borderline / world: borderline-benign prompts."""
    world_benign_per_difficulty: int = 16
    """world-test / world: arithmetic problems per difficulty 1-4."""
    axis_harmful: int = 64
    """world-axis-*: harmful requests on each side of the axis."""
    axis_benign: int = 32
    """world-axis-*: arithmetic capability controls on each side of the axis."""
    skip_bad: bool = False
    """Drop malformed rows of files (and count them) instead of failing."""


SuiteBuilder = Callable[[SuiteOptions], PromptSet]
"""Builds a suite's prompt set from the options."""

SUITES = Registry[SuiteBuilder]("suite", accepts=callable)
"""Suites by name (the built-ins below register here); `@SUITES.register("name")` adds one."""


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """The data dir given, else $HARMLAB_DATA_DIR, else None."""
    chosen = data_dir or os.environ.get("HARMLAB_DATA_DIR") or None
    return Path(chosen).expanduser() if chosen else None


def load_suite(
    name: str, options: SuiteOptions | None = None, file_format: str = "prompts"
) -> PromptSet:
    """A suite's prompts: by name or `module:function`, or a file read with `file_format`."""
    options = options or SuiteOptions()
    if name in SUITES or DOTTED.match(name):
        return SUITES.get(name)(options)
    path = Path(name).expanduser()
    if not path.exists():
        raise HarmlabError(SUITES.unknown(name, also=", or a prompt file that exists"))
    return load_prompts(path, FORMATS.get(file_format), skip_bad=options.skip_bad)


def data_file(options: SuiteOptions, benchmark: str, filename: str) -> Path:
    """`<data dir>/<benchmark>/<filename>`, or a one-line error saying how to provide it."""
    if options.data_dir is None:
        raise HarmlabError(
            f"suite '{benchmark}' reads third-party data: pass --data-dir or set "
            f"HARMLAB_DATA_DIR to a folder holding {benchmark}/{filename}"
        )
    path = options.data_dir / benchmark / filename
    if not path.is_file():
        raise HarmlabError(f"suite '{benchmark}' needs {path}, which does not exist")
    return path


# --- SafetyWorld suites -----------------------------------------------------------------------


def suite_world(options: SuiteOptions) -> SafetyWorld:
    """The SafetyWorld of the options: its seed and its held-out category rotation."""
    from harmlab.world import SafetyWorld
    from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY

    category = options.held_out_category or DEFAULT_HELD_OUT_CATEGORY
    return SafetyWorld(options.world_seed, held_out_category=category)


def _world_set(name: str, options: SuiteOptions, parts: list[tuple[str, str, int]]) -> PromptSet:
    world = suite_world(options)
    records: list[PromptRecord] = []
    for split, family, n in parts:
        if family == "benign":
            drawn = world.sample(split, "benign", 4 * n, seed=options.prompt_seed)
        else:
            drawn = world.sample(split, family, n, seed=options.prompt_seed)  # type: ignore[arg-type]
        records.extend(record_from_world(p, name) for p in dict.fromkeys(drawn))
    return PromptSet(name, tuple(records))


@SUITES.register("world-test")
def world_test(options: SuiteOptions) -> PromptSet:
    """Harmful requests of the training categories and arithmetic at each difficulty."""
    parts = [
        ("test", "harmful", options.world_harmful),
        ("test", "benign", options.world_benign_per_difficulty),
    ]
    return _world_set("world-test", options, parts)


@SUITES.register("world-heldout")
def world_heldout(options: SuiteOptions) -> PromptSet:
    """Harmful requests held out on each axis, and arithmetic in each held-out style."""
    parts = [
        ("heldout_test", "harmful", options.world_held_out),
        ("heldout_test", "benign", options.world_capability_per_difficulty),
    ]
    return _world_set("world-heldout", options, parts)


@SUITES.register("world-borderline")
def world_borderline(options: SuiteOptions) -> PromptSet:
    """Borderline-benign prompts (over-refusal probes)."""
    parts = [("borderline_test", "borderline", options.world_borderline)]
    return _world_set("world-borderline", options, parts)


@SUITES.register("world")
def world_all(options: SuiteOptions) -> PromptSet:
    """All three world suites together: every axis, both sides, with capability controls."""
    parts = [
        ("test", "harmful", options.world_harmful),
        ("heldout_test", "harmful", options.world_held_out),
        ("borderline_test", "borderline", options.world_borderline),
        ("test", "benign", options.world_benign_per_difficulty),
        ("heldout_test", "benign", options.world_capability_per_difficulty),
    ]
    return _world_set("world", options, parts)


def axis_suite(axis_name: str, options: SuiteOptions) -> PromptSet:
    """One axis, both sides: harmful requests and arithmetic capability controls."""
    world = suite_world(options)
    name = f"world-axis-{axis_name}"
    drawn = [
        prompt
        for side in ("trained", "held_out")
        for family, n in (("harmful", options.axis_harmful), ("benign", options.axis_benign))
        for prompt in world.axis_prompts(axis_name, side, family, n, seed=options.prompt_seed)  # type: ignore[arg-type]
    ]
    return PromptSet(name, tuple(record_from_world(p, name) for p in dict.fromkeys(drawn)))


def _register_axis_suite(axis_name: str) -> None:
    def build(options: SuiteOptions) -> PromptSet:
        return axis_suite(axis_name, options)

    build.__doc__ = f"The {axis_name} axis, both sides: harmful requests and capability controls."
    SUITES.add(f"world-axis-{axis_name}", build)


for _axis in ("attack", "obfuscation", "language", "category"):
    _register_axis_suite(_axis)


# --- third-party suites -----------------------------------------------------------------------


@SUITES.register("xstest")
def xstest(options: SuiteOptions) -> PromptSet:
    """XSTest's 450 prompts (arXiv 2308.01263)."""
    path = data_file(options, "xstest", "xstest_prompts.csv")
    loaded = load_prompts(path, FORMATS.get("xstest"), skip_bad=options.skip_bad)
    return PromptSet("xstest", loaded.records, loaded.skipped, loaded.first_problem)


def _file_suite(name: str, benchmark: str, filename: str, file_format: str) -> None:
    def build(options: SuiteOptions) -> PromptSet:
        path = data_file(options, benchmark, filename)
        loaded = load_prompts(path, FORMATS.get(file_format), skip_bad=options.skip_bad)
        return PromptSet(name, loaded.records, loaded.skipped, loaded.first_problem)

    build.__doc__ = f"{benchmark}/{filename} read with the '{file_format}' format."
    SUITES.add(name, build)


_file_suite("harmbench", "harmbench", "harmbench_behaviors_text_all.csv", "harmbench")
_file_suite("jailbreakbench", "jailbreakbench", "harmful-behaviors.csv", "jailbreakbench")
_file_suite(
    "jailbreakbench-benign", "jailbreakbench", "benign-behaviors.csv", "jailbreakbench-benign"
)
_file_suite("strongreject", "strongreject", "strongreject_dataset.csv", "strongreject")
_file_suite("advbench", "advbench", "harmful_behaviors.csv", "advbench")


def xstest_completions(
    data_dir: str | Path | None, models: tuple[str, ...] = XSTEST_MODELS, skip_bad: bool = False
) -> LabelledSet:
    """XSTest's human-labelled completions of the given models, in model then file order."""
    options = SuiteOptions(data_dir=resolve_data_dir(data_dir))
    items: list[LabelledCompletion] = []
    skipped, first = 0, ""
    for model in models:
        path = data_file(options, "xstest", f"completions_{model}.csv")
        loaded = load_labelled(
            path, FORMATS.get("xstest-completions"), model=model, skip_bad=skip_bad
        )
        items.extend(loaded.items)
        skipped, first = skipped + loaded.skipped, first or loaded.first_problem
    return LabelledSet("xstest", tuple(items), skipped, first)
