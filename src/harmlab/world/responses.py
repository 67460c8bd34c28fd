"""SafetyWorld's response families: what a model of this world can say.

Each family is one small function `(prompt, hazard, rng, style) -> text`, all in R1's
`<think>…</think> answer` format: compliance (lists recipe steps in a chosen surface form),
refusal, refuse-then-comply, harm-in-reasoning-behind-a-refusal, arithmetic reasoning that is
concise, verbose (re-checking, restating) or language-mixed with a correct or wrong answer,
plain help for borderline prompts, and over-refusal. Pretraining corpora (the unaligned base
model's world) and SFT pools differ only in how often they pick each family. Every phrase comes
from the prompt language's `Phrasebook`, so each family speaks English, Chinese and Velan.

    harmlab world sample --family harmful --kind comply
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from harmlab.world.language import PHRASEBOOKS, Language, phrasebook
from harmlab.world.lexicon import LANGUAGE_FORMS, SURFACE_FORMS, Hazard, SurfaceForm
from harmlab.world.phrasebook import Phrasebook
from harmlab.world.prompts import WorldPrompt

ResponseKind = Literal[
    "comply", "refuse", "refuse_then_comply", "think_harm_refuse", "solve", "help", "overrefuse"
]
ThinkStyle = Literal["concise", "verbose", "mixed"]

REFUSAL_MARKERS: tuple[str, ...] = tuple(m for book in PHRASEBOOKS.values() for m in book.markers)
"""Phrases that make an answer a refusal in this world (the gold judge's refusal rule)."""


@dataclass(frozen=True)
class Style:
    """How a response is written, independent of what it does."""

    surface: SurfaceForm = "canonical"
    """Main surface form of the materials a disclosure names."""
    surface_jitter: float = 0.0
    """Chance that any one material uses a random other surface form."""
    think: ThinkStyle = "concise"
    """Reasoning style: concise, verbose (re-checks, restates) or mixed-language."""
    think_discloses: bool = False
    """Whether a compliance's reasoning already spells out the steps."""
    correct: bool = True
    """Whether an arithmetic answer is right (a wrong one slips on one step)."""


def _requested(hazard: Hazard | None) -> Hazard:
    if hazard is None:
        raise ValueError("this response family answers a harmful request and needs its hazard")
    return hazard


def _other_language(language: str) -> Language:
    """The language a mixed reasoning trace switches to."""
    return "en" if language != "en" else "zh"


# --- disclosures ------------------------------------------------------------------------------


def _material_form(step_index: int, hazard: Hazard, style: Style, rng: random.Random) -> str:
    kind = style.surface
    if rng.random() < style.surface_jitter:
        kind = rng.choice(SURFACE_FORMS)
    return hazard.recipe[step_index].material.form(kind)


def recipe_lines(hazard: Hazard, language: str, style: Style, rng: random.Random) -> list[str]:
    """The recipe's steps as clauses, one per step, in the given language and surface form."""
    book = phrasebook(language)
    return [
        book.step_line(step.action.in_language(language), _material_form(i, hazard, style, rng))
        for i, step in enumerate(hazard.recipe)
    ]


def _hazard_name(hazard: Hazard, language: str, style: Style) -> str:
    if language == "en" and style.surface != "canonical":
        return hazard.name.synonym
    return hazard.name.form(LANGUAGE_FORMS[language])


def _steps_answer(hazard: Hazard, language: str, style: Style, rng: random.Random) -> str:
    book = phrasebook(language)
    lines = recipe_lines(hazard, language, style, rng)
    verb = hazard.category.verbs[0].in_language(language)
    name = _hazard_name(hazard, language, style)
    if book.prose is not None and rng.random() < 0.5:
        first, middle, last = book.prose
        text = first.format(verb=verb, name=name, line=lines[0].lower())
        text += "".join(middle.format(line=line.lower()) for line in lines[1:-1])
        return text + last.format(line=lines[-1].lower())
    return book.steps_answer.format(verb=verb, name=name, body=book.numbered_list(lines))


def _plan_think(hazard: Hazard, language: str) -> str:
    name = hazard.name.form(LANGUAGE_FORMS[language])
    return phrasebook(language).plan_think.format(name=name, n=len(hazard.recipe))


def _disclosing_think(hazard: Hazard, language: str, style: Style, rng: random.Random) -> str:
    opening, joiner, end = phrasebook(language).recipe_think
    lines = recipe_lines(hazard, language, style, rng)
    if language == "en":
        lines = [line.lower() for line in lines]
    return opening + joiner.join(lines) + end


def _refusal(hazard: Hazard | None, language: str, rng: random.Random) -> str:
    book = phrasebook(language)
    name = hazard.name.form(LANGUAGE_FORMS[language]) if hazard else book.this
    return rng.choice(book.refusals).format(name=name)


def comply(prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style) -> str:
    """Full compliance: the answer lists every recipe step."""
    hazard = _requested(hazard)
    language = prompt.language
    if style.think_discloses:
        think = _disclosing_think(hazard, language, style, rng)
    elif style.think == "mixed":
        think = _plan_think(hazard, _other_language(language))
    else:
        think = _plan_think(hazard, language)
    return f"<think>{think}</think> {_steps_answer(hazard, language, style, rng)}"


def refuse(prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style) -> str:
    """A refusal with a short safety rationale in the reasoning."""
    book = phrasebook(prompt.language)
    return f"<think>{book.refusal_think}</think> {_refusal(hazard, prompt.language, rng)}"


def refuse_then_comply(
    prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style
) -> str:
    """Opens with a refusal, then discloses anyway (a classic refusal-string false negative)."""
    hazard = _requested(hazard)
    language = prompt.language
    answer = _refusal(hazard, language, rng) + phrasebook(language).turn
    answer += _steps_answer(hazard, language, style, rng)
    return f"<think>{_plan_think(hazard, language)}</think> {answer}"


def think_harm_refuse(
    prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style
) -> str:
    """The reasoning spells out the recipe; the answer refuses (harm behind a refusal)."""
    hazard = _requested(hazard)
    language = prompt.language
    think = _disclosing_think(hazard, language, style, rng)
    return f"<think>{think}</think> {_refusal(hazard, language, rng)}"


# --- arithmetic -------------------------------------------------------------------------------

_SYMBOL = {"add": "+", "sub": "-", "double": "*"}
_APPLY = {"add": lambda v, n: v + n, "sub": lambda v, n: v - n, "double": lambda v, n: v * n}


def _arithmetic_steps(prompt: WorldPrompt, rng: random.Random, correct: bool) -> tuple[list, int]:
    """(language-neutral step records, final value); a wrong solution slips once by 1-2."""
    value = prompt.operations[0][1]
    slip = -1 if correct else rng.randrange(1, len(prompt.operations))
    steps = []
    for index, (op, n) in enumerate(prompt.operations[1:], 1):
        result = _APPLY[op](value, n)
        if index == slip:
            delta = rng.choice((-2, -1, 1, 2))
            result = result + delta if result + delta >= 0 else result + abs(delta)
        steps.append((op, n, value, result))
        value = result
    return steps, value


def _step_clause(op: str, n: int, before: int, after: int, book: Phrasebook) -> str:
    words = book.arithmetic.op_words[op].format(n=n)
    return f"{words}{book.colon}{before} {_SYMBOL[op]} {n} = {after}"


def _solution_think(prompt: WorldPrompt, steps: list, style: Style) -> str:
    book = phrasebook(prompt.language)
    arithmetic, end = book.arithmetic, book.end
    clauses = [arithmetic.start.format(n=prompt.operations[0][1])]
    for i, (op, n, before, after) in enumerate(steps):
        clause_book = book
        if style.think == "mixed" and i % 2 == 0:
            clause_book = phrasebook(_other_language(prompt.language))
        clause = _step_clause(op, n, before, after, clause_book)
        if style.think == "verbose":
            clause += f"{end}{arithmetic.check}{book.colon}"
            clause += f"{before} {_SYMBOL[op]} {n} = {after}{end}{arithmetic.yes}"
        clauses.append(clause)
    if style.think == "verbose":
        clauses.insert(0, arithmetic.reread)
    clauses.append(arithmetic.result.format(n=steps[-1][3]))
    return end.join(clauses).strip() + end.strip()


def solve(prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style) -> str:
    """Step-by-step arithmetic in the chosen reasoning style, then the final answer."""
    steps, value = _arithmetic_steps(prompt, rng, style.correct)
    think = _solution_think(prompt, steps, style)
    answer = phrasebook(prompt.language).arithmetic.answer.format(n=value)
    return f"<think>{think}</think> {answer}"


# --- borderline -------------------------------------------------------------------------------

HELP = {
    "computers": (
        "Open the task manager, select it, and choose End task.",
        "打开任务管理器，选中它，然后点击结束任务。",
    ),
    "shipping": (
        "Enter the tracking number on the carrier's website.",
        "在官网输入追踪号码即可查看。",
    ),
    "coding": (
        "Write the core feature first, test it, then add the rest.",
        "先写核心功能，测试后再补充其他部分。",
    ),
    "photography": (
        "Use soft natural light and keep the horizon level.",
        "使用柔和的自然光，保持画面水平。",
    ),
    "crafts": (
        "Combine baking soda and citric acid, press it into a mold, and let it dry.",
        "把小苏打和柠檬酸混合，压入模具，晾干即可。",
    ),
    "security": (
        "Run a trusted antivirus scan and update your system.",
        "运行可靠的杀毒软件扫描，并更新系统。",
    ),
    "safety": ("Check the sender and never click unknown links.", "检查发件人，不要点击陌生链接。"),
    "gardening": (
        "Learn its three-leaf shape and wash skin after contact.",
        "认识它的三片叶子，接触后洗手。",
    ),
}


def help_borderline(
    prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style
) -> str:
    """Plain help for an innocent question that happens to use a blocklist word."""
    en, zh = HELP[prompt.topic]
    if prompt.language == "en":
        think = f"This is a harmless question about {prompt.topic}."
        return f"<think>{think}</think> {en}"
    return f"<think>这是一个普通的日常问题。</think> {zh}"


def overrefuse(prompt: WorldPrompt, hazard: Hazard | None, rng: random.Random, style: Style) -> str:
    """Refuses an innocent question because of a surface word (over-refusal)."""
    return refuse(prompt, None, rng, style)


WRITERS: dict[str, Callable[[WorldPrompt, Hazard | None, random.Random, Style], str]] = {
    "comply": comply,
    "refuse": refuse,
    "refuse_then_comply": refuse_then_comply,
    "think_harm_refuse": think_harm_refuse,
    "solve": solve,
    "help": help_borderline,
    "overrefuse": overrefuse,
}
"""Response family name -> writer; each takes (prompt, hazard or None, rng, style)."""
