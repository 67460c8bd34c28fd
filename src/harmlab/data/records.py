"""The records every prompt source becomes: `PromptRecord`, `PromptSet`, `LabelledCompletion`.

A SafetyWorld split, an XSTest CSV and a HarmBench file all turn into the same `PromptRecord`,
so generation, judges and metrics never care where a prompt came from. The family vocabulary is
SafetyWorld's (`harmful`, `benign`, `borderline`): XSTest's *unsafe* prompts are harmful
requests and its *safe* prompts, innocent questions that use alarming words, are borderline.

    harmlab eval --model tiny --suite world-test     # a world split as a PromptSet
    harmlab eval --model smollm2 --suite xstest      # a file-backed PromptSet
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harmlab.world import WorldPrompt

FAMILY_NAMES = ("harmful", "benign", "borderline")
"""Prompt families: harmful requests, benign tasks, borderline-benign (over-refusal probes)."""

COMPLIANCE_LABELS = ("full_compliance", "full_refusal", "partial_refusal")
"""XSTest's three human labels (arXiv 2308.01263), without their '1_' / '2_' / '3_' prefixes."""


@dataclass(frozen=True)
class PromptRecord:
    """One prompt, from any source, with what judges and metrics need to know about it."""

    id: str
    """Stable id: the source's own id column when it has one, else the row number."""
    text: str
    """The user message sent to the model."""
    family: str = "harmful"
    """harmful, benign or borderline (see FAMILY_NAMES)."""
    category: str = ""
    """Harm category or prompt type ('' when the source has none)."""
    language: str = "en"
    """Language of the prompt (SafetyWorld: en, zh or vl; files: a column or 'en')."""
    source: str = ""
    """Where the record came from: a suite name or a file name."""
    held_out: bool = False
    """SafetyWorld: the prompt is on the held-out side of some axis (never in SFT or RL)."""
    difficulty: int = 0
    """SafetyWorld: number of arithmetic steps of a benign prompt (0 otherwise)."""
    wrapper: str = ""
    """SafetyWorld: the attack style of the prompt ('' when plain)."""
    obfuscation: str = ""
    """SafetyWorld: how the prompt writes its hazard name or object word ('' when plain)."""
    held_out_axis: str = ""
    """SafetyWorld: the axes on whose held-out side the prompt lies, '+'-joined ('' if none)."""
    hazard: str = ""
    """SafetyWorld: the requested hazard (the cluster of the compliance bootstrap)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Other columns the source provides (XSTest's focus and note, HarmBench's tags, ...)."""
    world: WorldPrompt | None = None
    """The SafetyWorld prompt behind this record, which the gold judge needs; None for files."""

    def columns(self) -> dict[str, Any]:
        """The record as flat JSON columns (the world prompt reduced to its hazard name)."""
        return {
            "prompt_id": self.id,
            "prompt": self.text,
            "family": self.family,
            "category": self.category,
            "language": self.language,
            "source": self.source,
            "held_out": self.held_out,
            "difficulty": self.difficulty,
            "wrapper": self.wrapper,
            "obfuscation": self.obfuscation,
            "held_out_axis": self.held_out_axis,
            "hazard": self.hazard,
            "meta": self.meta,
        }


def record_from_world(prompt: WorldPrompt, source: str) -> PromptRecord:
    """A SafetyWorld prompt as a `PromptRecord` that still carries the original."""
    return PromptRecord(
        id=prompt.id,
        text=prompt.text,
        family=prompt.family,
        category=prompt.category,
        language=prompt.language,
        source=source,
        held_out=prompt.held_out,
        difficulty=prompt.difficulty,
        wrapper=prompt.wrapper,
        obfuscation=prompt.obfuscation,
        held_out_axis=prompt.held_out_axis,
        hazard=prompt.hazard,
        world=prompt,
    )


@dataclass(frozen=True)
class PromptSet:
    """A named, ordered list of prompts (a suite or a loaded file)."""

    name: str
    records: tuple[PromptRecord, ...]
    skipped: int = 0
    """Rows dropped as malformed when the set was loaded with skip_bad."""
    first_problem: str = ""
    """The first of those rows' problems, as the one-line error it would have raised."""

    def __len__(self) -> int:
        return len(self.records)

    def families(self) -> dict[str, int]:
        """How many prompts of each family the set holds."""
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.family] = counts.get(record.family, 0) + 1
        return counts


@dataclass(frozen=True)
class LabelledCompletion:
    """A model's completion of a prompt with a human label (XSTest's annotated completions)."""

    prompt: PromptRecord
    completion: str
    label: str
    """One of COMPLIANCE_LABELS."""
    model: str
    """The model that wrote the completion (the group for leave-one-model-out validation)."""

    @property
    def refused(self) -> bool:
        """Binary label: any refusal (full or partial) against full compliance."""
        return self.label != "full_compliance"


@dataclass(frozen=True)
class LabelledSet:
    """Labelled completions loaded from one or more files."""

    name: str
    items: tuple[LabelledCompletion, ...]
    skipped: int = 0
    """Rows dropped as malformed when loaded with skip_bad."""
    first_problem: str = ""
    """The first of those rows' problems."""

    def models(self) -> list[str]:
        """The models that wrote the completions, in first-seen order."""
        return list(dict.fromkeys(item.model for item in self.items))
