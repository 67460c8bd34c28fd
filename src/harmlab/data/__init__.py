"""Prompt sets: SafetyWorld splits and third-party files as one record type, suites by name.

    harmlab eval --model tiny --suite world-heldout
    harmlab eval --model smollm2 --suite xstest --data-dir ../shared/data

- `PromptRecord` / `PromptSet` / `LabelledCompletion`: what every source becomes.
- `load_prompts` / `load_labelled` with a `ColumnMapping`: JSONL, CSV, Parquet, saved datasets
  (`read_rows` reads any of them, row by row).
- `FORMATS`: column layouts of XSTest, HarmBench, JailbreakBench, StrongREJECT, AdvBench
  (`FORMATS.get(name)`).
- `load_suite(name)`: suites in `SUITES` (`world-test`, `world-heldout`, `world-borderline`,
  `world`, `xstest`, ...); `xstest_completions` for judge validation.
"""

from harmlab.data.formats import FORMATS
from harmlab.data.loaders import ColumnMapping, load_labelled, load_prompts
from harmlab.data.readers import read_rows
from harmlab.data.records import (
    COMPLIANCE_LABELS,
    FAMILY_NAMES,
    LabelledCompletion,
    LabelledSet,
    PromptRecord,
    PromptSet,
    record_from_world,
)
from harmlab.data.suites import (
    SUITES,
    XSTEST_MODELS,
    SuiteBuilder,
    SuiteOptions,
    load_suite,
    resolve_data_dir,
    xstest_completions,
)

__all__ = [
    "COMPLIANCE_LABELS",
    "FAMILY_NAMES",
    "FORMATS",
    "SUITES",
    "XSTEST_MODELS",
    "ColumnMapping",
    "LabelledCompletion",
    "LabelledSet",
    "PromptRecord",
    "PromptSet",
    "SuiteBuilder",
    "SuiteOptions",
    "load_labelled",
    "load_prompts",
    "load_suite",
    "read_rows",
    "record_from_world",
    "resolve_data_dir",
    "xstest_completions",
]
