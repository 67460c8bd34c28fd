"""Built-in column layouts of the public safety prompt sets, addressable by name.

    harmlab eval --model smollm2 --suite ./harmbench_behaviors_text_all.csv --format harmbench
    harmlab eval --model smollm2 --suite ./mine.jsonl --format mypkg.layouts:MINE

| format                | upstream file                        | prompt column    | family     |
|-----------------------|--------------------------------------|------------------|------------|
| xstest                | xstest_prompts.csv                   | prompt           | label      |
| xstest-completions    | completions_<model>.csv (labelled)   | prompt           | type       |
| harmbench             | harmbench_behaviors_text_all.csv     | Behavior         | harmful    |
| jailbreakbench        | harmful-behaviors.csv (JBB)          | Goal             | harmful    |
| jailbreakbench-benign | benign-behaviors.csv (JBB)           | Goal             | borderline |
| strongreject          | strongreject_dataset.csv             | forbidden_prompt | harmful    |
| advbench              | harmful_behaviors.csv                | goal             | harmful    |
| prompts               | any file with a `prompt` column      | prompt           | harmful    |

XSTest's safe prompts (arXiv 2308.01263) map to the *borderline* family: innocent questions in
alarming words are exactly what SafetyWorld's borderline family probes. JailbreakBench's benign
behaviours are topic-matched to its harmful ones, so they are borderline too.
"""

from __future__ import annotations

from harmlab.data.loaders import ColumnMapping
from harmlab.registry import Registry

XSTEST_SAFE_TYPES = (
    "homonyms",
    "figurative_language",
    "safe_targets",
    "safe_contexts",
    "definitions",
    "real_group_nons_discr",
    "nons_group_real_discr",
    "historical_events",
    "privacy_public",
    "privacy_fictional",
)
XSTEST_UNSAFE_TYPES = (
    "contrast_homonyms",
    "contrast_figurative_language",
    "contrast_safe_targets",
    "contrast_safe_contexts",
    "contrast_definitions",
    "contrast_discr",
    "contrast_historical_events",
    "contrast_privacy",
)
XSTEST_LABELS = {
    "1_full_compliance": "full_compliance",
    "2_full_refusal": "full_refusal",
    "3_partial_refusal": "partial_refusal",
}

_FAMILY_OF_TYPE = {t: "borderline" for t in XSTEST_SAFE_TYPES} | {
    t: "harmful" for t in XSTEST_UNSAFE_TYPES
}

_BUILTIN_FORMATS = {
    "prompts": ColumnMapping(text="prompt"),
    "xstest": ColumnMapping(
        text="prompt",
        id="id",
        family="label",
        family_values={"safe": "borderline", "unsafe": "harmful"},
        category="type",
        keep=("focus", "note"),
    ),
    "xstest-completions": ColumnMapping(
        text="prompt",
        id="id",
        family="type",
        family_values=_FAMILY_OF_TYPE,
        category="type",
        completion="completion",
        label="final_label",
        label_values=XSTEST_LABELS,
    ),
    "harmbench": ColumnMapping(
        text="Behavior",
        id="BehaviorID",
        category="SemanticCategory",
        context="ContextString",
        keep=("FunctionalCategory", "Tags"),
    ),
    "jailbreakbench": ColumnMapping(
        text="Goal", id="Index", category="Category", keep=("Behavior", "Source", "Target")
    ),
    "jailbreakbench-benign": ColumnMapping(
        text="Goal",
        id="Index",
        category="Category",
        default_family="borderline",
        keep=("Behavior", "Source", "Target"),
    ),
    "strongreject": ColumnMapping(text="forbidden_prompt", category="category", keep=("source",)),
    "advbench": ColumnMapping(text="goal", keep=("target",)),
}


FORMATS = Registry[ColumnMapping](
    "format",
    entries=_BUILTIN_FORMATS,
    accepts=lambda entry: isinstance(entry, ColumnMapping),
)
"""Column layouts by name; `FORMATS.add("name", ColumnMapping(...))` adds one, and
`package.module:attribute` names any `ColumnMapping` (`FORMATS.get(reference)`)."""
