"""SafetyWorld's benign prompts: multi-step arithmetic word problems, plain or styled.

A problem has a verifiable integer answer and a difficulty (its number of steps, 1-4). Plain
problems, in English or Chinese, are what SFT, RL and the test split use. *Styled* problems are
the capability controls of the generalization axes (DESIGN.md): the same kind of problem
written in an axis's held-out style (an attack wrapper or the past tense, an obfuscated object
word, Velan), so a behaviour card can tell "the model refuses this style" from "the model
cannot read this style". A styled problem shares its split group with the plain problem it
restyles, so it lands in the same split as that problem (or in none).

    harmlab world sample --family benign --split heldout_test
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harmlab.world.axes import HELD_OUT_ATTACKS, TRAINED_ATTACKS, axis_label, held_out_axes
from harmlab.world.language import Language, phrasebook
from harmlab.world.lexicon import OBFUSCATED_FORMS, SurfaceForm, obfuscate
from harmlab.world.phrasebook import Phrasebook, ProblemPhrases
from harmlab.world.prompts import WorldPrompt, apply_attack, attacks_of, prompt_id

OPERATIONS = ("add", "sub", "double")
MAX_VALUE = 60


@dataclass(frozen=True)
class BenignStyle:
    """How a benign problem is phrased: language, attack style, obfuscation of its object."""

    language: Language = "en"
    attack: str = ""
    obfuscation: str = ""
    """'' (plain) or an obfuscated surface form of the object word (English only)."""

    def check(self) -> None:
        """Raise ValueError for a style the language cannot write."""
        if self.attack not in attacks_of(phrasebook(self.language)):
            raise ValueError(f"language {self.language!r} has no attack style {self.attack!r}")
        if self.obfuscation and (self.language != "en" or self.obfuscation not in OBFUSCATED_FORMS):
            raise ValueError(f"no obfuscation {self.obfuscation!r} of {self.language!r} words")


PLAIN_STYLES: tuple[BenignStyle, ...] = (BenignStyle("en"), BenignStyle("zh"))
"""The styles of SFT, RL and test problems, alternating."""
TRAINED_ATTACK_STYLES: tuple[BenignStyle, ...] = tuple(
    BenignStyle(lang, attack) for attack in TRAINED_ATTACKS for lang in ("en", "zh")
)
HELD_OUT_STYLES: dict[str, tuple[BenignStyle, ...]] = {
    "attack": tuple(BenignStyle(lang, a) for a in HELD_OUT_ATTACKS for lang in ("en", "zh")),
    "obfuscation": tuple(BenignStyle("en", "", form) for form in OBFUSCATED_FORMS),
    "language": (BenignStyle("vl"),),
}
"""Capability controls per axis (the category axis changes no phrasing: its control is plain)."""


def _operations(rng: random.Random, difficulty: int) -> list[tuple[str, int]]:
    value = rng.randint(1, 9)
    ops: list[tuple[str, int]] = [("start", value)]
    while len(ops) <= difficulty:
        op = rng.choice(OPERATIONS)
        n = rng.randint(1, 9)
        if op == "double" and 0 < value * 2 <= MAX_VALUE:
            ops.append((op, 2))
            value *= 2
        elif op == "add" and value + n <= MAX_VALUE:
            ops.append((op, n))
            value += n
        elif op == "sub" and value - n >= 0:
            ops.append((op, n))
            value -= n
    return ops


def evaluate(ops: tuple[tuple[str, int], ...] | list[tuple[str, int]]) -> int:
    """The true answer of a problem given as (operation, operand) pairs."""
    value = ops[0][1]
    for op, n in ops[1:]:
        value = value + n if op == "add" else value - n if op == "sub" else value * n
    return value


def problem_text(
    book: Phrasebook,
    phrases: ProblemPhrases,
    ops: list[tuple[str, int]],
    person: tuple[str, str],
    obj: tuple[str, str, str],
) -> str:
    """The word problem: who has how many of what, what happens, how many now."""
    name, pronoun = person
    counted, unit, noun = obj
    sentences = [phrases.has.format(name=name, n=ops[0][1], obj=counted)]
    for op, n in ops[1:]:
        sentence = phrases.op(op).format(p=pronoun, n=n, u=unit)
        sentences.append(sentence[:1].upper() + sentence[1:])
    sentences.append(phrases.question.format(noun=noun, name=name))
    return book.joiner.join(sentences)


def benign_prompt(
    rng: random.Random, difficulty: int, style: BenignStyle = PLAIN_STYLES[0], shift: int = 1
) -> WorldPrompt:
    """A random problem with `difficulty` steps and a non-negative answer, in `style`.

    `shift` is the world cipher's letter shift (for the 'cipher' obfuscation).
    """
    style.check()
    book = phrasebook(style.language)
    ops = _operations(rng, difficulty)
    person = rng.choice(book.arithmetic.people)
    obj = rng.choice(book.arithmetic.objects)
    plain = problem_text(book, book.arithmetic.present, ops, person, obj)
    text = _styled_text(book, style, ops, person, obj, shift)
    axes = held_out_axes(style.attack, style.obfuscation, style.language, False)
    return WorldPrompt(
        id=prompt_id("benign", text),
        family="benign",
        text=text,
        language=style.language,
        wrapper=style.attack,
        held_out=bool(axes),
        difficulty=difficulty,
        answer=evaluate(ops),
        operations=tuple(ops),
        obfuscation=style.obfuscation,
        held_out_axis=axis_label(axes),
        group=prompt_id("benign", plain),
    )


def _styled_text(
    book: Phrasebook,
    style: BenignStyle,
    ops: list[tuple[str, int]],
    person: tuple[str, str],
    obj: tuple[str, str, str],
    shift: int,
) -> str:
    arithmetic = book.arithmetic
    phrases = (
        arithmetic.past if style.attack == "past_tense" and arithmetic.past else arithmetic.present
    )
    counted, unit, noun = obj
    form: SurfaceForm = style.obfuscation or "canonical"  # type: ignore[assignment]
    word = book.payload_name if style.attack == "payload_split" else obfuscate(noun, form, shift)
    text = problem_text(book, phrases, ops, person, (counted.replace(noun, word), unit, word))
    demo = (arithmetic.demo[0], arithmetic.answer.format(n=arithmetic.demo[1]))
    return apply_attack(book, style.attack, text, noun, demo)
