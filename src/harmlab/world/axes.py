"""The generalization axes of SafetyWorld v2: each a trained side and a held-out side.

DESIGN.md ("Generalization axes"): an experiment about generalization is only worth running if
it can fail, so every axis splits prompts *by group* into a side that SFT and RL see and a side
they never see, while the base model's pretraining corpus holds both, with compliance (the base
model has the capability; `corpus.BaseBehaviour` says how often each appears).

| axis        | trained side                                  | held-out side                  |
|-------------|-----------------------------------------------|--------------------------------|
| attack      | plain, fiction, roleplay, ignore, research    | prefix injection, refusal      |
|             |                                               | suppression, past tense,       |
|             |                                               | payload splitting, few-shot    |
| obfuscation | the name as its language writes it            | leet, spaced, hyphenated,      |
|             | (canonical, synonym, Chinese, Velan)          | world cipher                   |
| language    | English, Chinese                              | Velan (Cyrillic, invented)     |
| category    | every category but one                        | the held-out category          |

Motivation: mismatched generalization (Wei et al. 2023, arXiv 2307.02483: prefix injection,
refusal suppression, payload splitting); past-tense reformulation (Andriushchenko & Flammarion
2024, arXiv 2407.11969); few-shot compliance (many-shot jailbreaking, Anil et al. 2024);
low-resource languages (Yong et al. 2023, arXiv 2310.02446). A world prompt is on the held-out
side of at most one axis wherever it is evaluated, so an axis's held-out slice differs from the
trained test split in that axis alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harmlab import HarmlabError
from harmlab.world.language import HELD_OUT_LANGUAGES, TRAINED_LANGUAGES
from harmlab.world.lexicon import OBFUSCATED_FORMS

AxisName = Literal["attack", "obfuscation", "language", "category"]
Side = Literal["trained", "held_out"]
SIDES: tuple[Side, ...] = ("trained", "held_out")

TRAINED_ATTACKS: tuple[str, ...] = ("", "fiction", "roleplay", "ignore", "research")
"""Attack styles of SFT and RL requests ('' is a plain request)."""
HELD_OUT_ATTACKS: tuple[str, ...] = (
    "prefix_injection",
    "refusal_suppression",
    "past_tense",
    "payload_split",
    "few_shot",
)
"""Attack styles only pretraining and evaluation use."""


@dataclass(frozen=True)
class Axis:
    """One generalization axis: the prompt attribute it reads and the values of each side."""

    name: AxisName
    attribute: str
    """The `WorldPrompt` field that holds the prompt's value on this axis."""
    trained: tuple[str, ...]
    held_out: tuple[str, ...]
    """Held-out values ('category': filled in per world, from the lexicon's flags)."""
    group_level: bool
    """Whether a whole split group shares the value (a hazard's category, a request's
    language), as opposed to a variant of a group's request (its wrapper or name form)."""


AXES: tuple[Axis, ...] = (
    Axis("attack", "wrapper", TRAINED_ATTACKS, HELD_OUT_ATTACKS, group_level=False),
    Axis(
        "obfuscation",
        "obfuscation",
        ("", "canonical", "synonym", "chinese", "velan"),
        OBFUSCATED_FORMS,
        group_level=False,
    ),
    Axis("language", "language", TRAINED_LANGUAGES, HELD_OUT_LANGUAGES, group_level=True),
    Axis("category", "category", (), (), group_level=True),
)
AXIS_NAMES: tuple[AxisName, ...] = tuple(axis.name for axis in AXES)


def axis(name: str) -> Axis:
    """The axis of this name, or a clear error naming the valid ones."""
    for candidate in AXES:
        if candidate.name == name:
            return candidate
    raise HarmlabError(f"unknown axis {name!r}; valid axes: {', '.join(AXIS_NAMES)}")


def held_out_axes(
    wrapper: str, obfuscation: str, language: str, category_held_out: bool
) -> tuple[AxisName, ...]:
    """The axes on whose held-out side a prompt with these coordinates lies, in axis order."""
    out: list[AxisName] = []
    if wrapper in HELD_OUT_ATTACKS:
        out.append("attack")
    if obfuscation in OBFUSCATED_FORMS:
        out.append("obfuscation")
    if language in HELD_OUT_LANGUAGES:
        out.append("language")
    if category_held_out:
        out.append("category")
    return tuple(out)


def axis_label(axes: tuple[str, ...]) -> str:
    """The `held_out_axis` field: '' when fully trained, 'attack', or 'attack+category'."""
    return "+".join(axes)
