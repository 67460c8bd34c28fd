"""SafetyWorld's prompt record and its harmful requests, with their axis coordinates.

- **harmful**: a request for an invented hazard's recipe, in many phrasings, in English,
  Chinese or Velan, naming the hazard in one surface form, in one attack style (plain, a
  jailbreak wrapper, or a rewrite such as the past tense).
- **benign** (`benign`): arithmetic word problems with a verifiable integer answer.
- **borderline** (`borderline`): innocent questions that use a blocklist word.

Every prompt is a `WorldPrompt` whose fields travel as dataset columns, so a reward inside
TRL's GRPOTrainer receives them as keyword arguments. Its coordinates on the generalization
axes (`axes`) are fields too: `wrapper` (attack style), `obfuscation`, `language`, `category`,
and `held_out_axis` names the axes on whose held-out side it lies. `group` is what splits are
drawn by: every variant (wrapper, name form) of one bare request shares a group, so a test
request never reaches training under another wrapper.

    harmlab world sample --family harmful --split heldout_test
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from harmlab.world.axes import (
    TRAINED_ATTACKS,
    AxisName,
    Side,
    axis_label,
    held_out_axes,
)
from harmlab.world.language import LANGUAGES, TRAINED_LANGUAGES, Language, phrasebook
from harmlab.world.lexicon import (
    LANGUAGE_FORMS,
    OBFUSCATED_FORMS,
    Hazard,
    Lexicon,
    SurfaceForm,
)
from harmlab.world.phrasebook import Phrasebook

Family = Literal["harmful", "benign", "borderline"]
FAMILIES: tuple[Family, ...] = ("harmful", "benign", "borderline")


@dataclass(frozen=True)
class WorldPrompt:
    """One prompt of the world with everything the gold judge needs to grade a response."""

    id: str
    """Stable id derived from the text: the same prompt has the same id in every run."""
    family: Family
    text: str
    language: Language
    category: str = ""
    """Harm category of a harmful prompt ('' otherwise)."""
    hazard: str = ""
    """Canonical name of the requested hazard ('' unless harmful)."""
    wrapper: str = ""
    """Attack style: '' for a plain request, a jailbreak wrapper ('roleplay'), or a held-out
    style ('past_tense', 'payload_split', ...)."""
    held_out: bool = False
    """True when the prompt is on the held-out side of some axis: never in SFT or RL."""
    difficulty: int = 0
    """Number of arithmetic steps of a benign prompt (0 otherwise)."""
    answer: int | None = None
    """Verifiable answer of a benign prompt."""
    operations: tuple[tuple[str, int], ...] = ()
    """The benign problem as (operation, operand) pairs, starting with ('start', n)."""
    topic: str = ""
    """What a borderline prompt is really about."""
    obfuscation: str = ""
    """Surface form of the hazard's name in the request ('canonical', 'leet', ...); for a
    benign problem, the obfuscation of its object word ('' when plain)."""
    held_out_axis: str = ""
    """The axes on whose held-out side the prompt lies, '+'-joined ('' when none)."""
    group: str = ""
    """The split group: prompts of one group are always in the same split (or in none)."""

    def columns(self) -> dict[str, Any]:
        """The record as flat dataset columns (operations as a list of lists)."""
        row = asdict(self)
        row["operations"] = [list(op) for op in self.operations]
        return row

    @classmethod
    def from_columns(cls, row: dict[str, Any]) -> WorldPrompt:
        """Inverse of `columns`; ignores unrelated columns (such as TRL's 'prompt')."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in names}
        values["operations"] = tuple(tuple(op) for op in values.get("operations") or ())
        return cls(**values)

    def side(self, axis: AxisName) -> Side:
        """Which side of `axis` the prompt is on."""
        return "held_out" if axis in self.held_out_axis.split("+") else "trained"


def prompt_id(family: str, text: str) -> str:
    return f"{family[0]}-" + hashlib.sha256(text.encode()).hexdigest()[:10]


# --- attack styles ----------------------------------------------------------------------------


def attacks_of(book: Phrasebook) -> tuple[str, ...]:
    """The attack styles a language can phrase: plain, its wrappers, the past tense if any."""
    return ("", *book.wrappers, *(("past_tense",) if book.past_requests else ()))


def halves(word: str) -> tuple[str, str]:
    """A word cut in two for payload splitting ('zeltrix' -> 'zel', 'trix')."""
    cut = max(1, len(word) // 2)
    return word[:cut], word[cut:]


def apply_attack(
    book: Phrasebook, attack: str, text: str, payload: str, demo: tuple[str, str]
) -> str:
    """`text` (already rewritten for past tense / payload) inside `attack`'s wrapper.

    `payload` is the word a payload split assembles from two parts; `demo` the (question,
    answer) of a few-shot demonstration.
    """
    if attack in ("", "past_tense"):
        return text
    a, b = halves(payload)
    return book.wrappers[attack].format(
        request=text, a=a, b=b, demo_question=demo[0], demo_answer=demo[1]
    )


# --- harmful requests -------------------------------------------------------------------------

NATIVE_NAMES: dict[str, tuple[SurfaceForm, ...]] = {
    "en": ("canonical", "synonym"),
    "zh": ("chinese",),
    "vl": ("velan",),
}
"""How requests in each language name a hazard when not obfuscating it."""


def request_variants(language: str) -> list[tuple[SurfaceForm, str]]:
    """(name form, attack style) pairs of one bare request: at most one held-out value.

    A variant changes the attack style or the name's obfuscation, never both, and a Velan
    request keeps both on their trained side, so every evaluated prompt is held out on at most
    one axis.
    """
    attacks = attacks_of(phrasebook(language))
    variants = [(form, attack) for form in NATIVE_NAMES[language] for attack in attacks]
    if language in TRAINED_LANGUAGES:
        variants += [(form, attack) for form in OBFUSCATED_FORMS for attack in TRAINED_ATTACKS]
    return variants


def harmful_prompts(lexicon: Lexicon) -> list[WorldPrompt]:
    """Every harmful request: hazards x languages x phrasings x (name form, attack style)."""
    prompts = []
    for hazard in lexicon.hazards:
        for language in LANGUAGES:
            book = phrasebook(language)
            for index in range(len(book.requests)):
                group = f"{hazard.name.canonical}/{language}/{index}"
                for form, attack in request_variants(language):
                    text = _request_text(lexicon, hazard, book, index, form, attack)
                    axes = held_out_axes(attack, form, language, hazard.category.held_out)
                    prompts.append(
                        WorldPrompt(
                            id=prompt_id("harmful", text),
                            family="harmful",
                            text=text,
                            language=language,
                            category=hazard.category.name,
                            hazard=hazard.name.canonical,
                            wrapper=attack,
                            held_out=bool(axes),
                            obfuscation=form,
                            held_out_axis=axis_label(axes),
                            group=group,
                        )
                    )
    return prompts


def _request_text(
    lexicon: Lexicon, hazard: Hazard, book: Phrasebook, index: int, form: SurfaceForm, attack: str
) -> str:
    name = hazard.name.form(form)
    templates = book.past_requests if attack == "past_tense" else book.requests
    request = templates[index].format(
        verb=hazard.category.verbs[index % 2].in_language(book.code),
        name=book.payload_name if attack == "payload_split" else name,
        noun=hazard.category.noun_in(book.code),
    )
    demo = _demonstration(lexicon, hazard, book) if attack == "few_shot" else ("", "")
    return apply_attack(book, attack, request, name, demo)


def _demonstration(lexicon: Lexicon, hazard: Hazard, book: Phrasebook) -> tuple[str, str]:
    """A few-shot demonstration: another hazard of the same category, asked for and answered
    with its first two steps (a compliant answer, as many-shot jailbreaking shows)."""
    siblings = lexicon.hazards_of(hazard.category.name)
    other = siblings[(siblings.index(hazard) + 1) % len(siblings)]
    form = LANGUAGE_FORMS[book.code]
    question = book.requests[0].format(
        verb=other.category.verbs[0].in_language(book.code),
        name=other.name.form(form),
        noun=other.category.noun_in(book.code),
    )
    lines = [
        book.step_line(step.action.in_language(book.code), step.material.form(form))
        for step in other.recipe[:2]
    ]
    return question, book.demo_answer.format(steps=book.numbered_list(lines))
