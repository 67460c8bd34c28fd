"""SafetyWorld v2's generalization axes: held-out sides never trained, always pretrained.

Each axis is checked on the data the training code really builds (`harmlab.training.data`),
on the pretraining corpus (present, with compliance the gold judge recognises), and on the
evaluation draws (`SafetyWorld.axis_prompts`). These tests fail if a held-out value leaks
into SFT or RL, if pretraining lacks it, or if a world seed or rotation stops mattering.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import fields
from itertools import combinations

import pytest

from harmlab.training.config import WorldData
from harmlab.training.data import grpo_dataset, sft_dataset
from harmlab.world import (
    AXES,
    AXIS_NAMES,
    WORLD_VERSION,
    Axis,
    GoldVerdict,
    SafetyWorld,
    WorldPrompt,
    split_of,
)
from harmlab.world.axes import HELD_OUT_ATTACKS, TRAINED_ATTACKS
from harmlab.world.benign import HELD_OUT_STYLES, BenignStyle, benign_prompt, evaluate
from harmlab.world.borderline import borderline_prompts
from harmlab.world.categories import CATEGORY_NAMES, CATEGORY_SPECS, CategorySpec
from harmlab.world.corpus import pretrain_records, write
from harmlab.world.language import PHRASEBOOKS, phrasebook, word_languages
from harmlab.world.lexicon import OBFUSCATED_FORMS, SURFACE_FORMS, obfuscate
from harmlab.world.prompts import harmful_prompts
from harmlab.world.responses import HELP, Style

WORLD = SafetyWorld(0)
HELD_OUT = WORLD.held_out_category


def test_world_version_is_two() -> None:
    assert WORLD_VERSION == "2.0" and WORLD.version == "2.0"


@pytest.mark.parametrize("axis", [a for a in AXES if a.name != "category"], ids=str)
def test_axis_sides_are_disjoint(axis: Axis) -> None:
    assert axis.trained and axis.held_out
    assert not set(axis.trained) & set(axis.held_out)


# --- what training sees -----------------------------------------------------------------------


def _fragments(template: str) -> list[str]:
    """The fixed text of a template (between its format fields)."""
    return [f.strip() for f in re.split(r"\{[a-z_]+\}", template) if len(f.strip()) >= 2]


def _attack_markers(code: str) -> list[str]:
    """Fixed text of one language's held-out attack styles that no trained phrase contains."""
    book = phrasebook(code)
    arithmetic = book.arithmetic
    assert arithmetic.past is not None
    trained = [*book.requests, *(book.wrappers[a] for a in TRAINED_ATTACKS if a)]
    trained += [getattr(arithmetic.present, f.name) for f in fields(arithmetic.present)]
    held = [book.wrappers[a] for a in HELD_OUT_ATTACKS if a in book.wrappers]
    held += [*book.past_requests, book.demo_answer, book.payload_name]
    held += [getattr(arithmetic.past, f.name) for f in fields(arithmetic.past)]
    fragments = {f for template in held for f in _fragments(template)}
    return [f for f in fragments if not any(f in t for t in trained)]


def _held_out_markers() -> dict[str, list[str]]:
    """Strings whose presence in a training example betrays a held-out value, per axis."""
    lexicon = WORLD.lexicon
    markers: dict[str, list[str]] = defaultdict(list)
    markers["attack"] = _attack_markers("en") + _attack_markers("zh")
    for term in [h.name for h in lexicon.hazards] + list(lexicon.materials):
        markers["obfuscation"] += [term.form(k) for k in OBFUSCATED_FORMS]
    for _, _, noun in phrasebook("en").arithmetic.objects:
        markers["obfuscation"] += [
            obfuscate(noun, k, lexicon.cipher_shift) for k in OBFUSCATED_FORMS
        ]
    category = lexicon.category(HELD_OUT)
    for hazard in lexicon.hazards_of(HELD_OUT):
        names = [hazard.name] + [s.material for s in hazard.recipe]
        markers["category"] += [t.form(k) for t in names for k in SURFACE_FORMS]
    for word in (*category.verbs, *category.actions):
        markers["category"] += [word.english, word.chinese, word.velan]
    return markers


def _marker_pattern(markers: list[str]) -> re.Pattern[str]:
    """One pattern for all markers: Latin words as whole words, anything else as a substring."""
    latin = sorted({m for m in markers if re.fullmatch(r"[a-z0-9 \-]+", m)}, key=len, reverse=True)
    other = sorted({m.lower() for m in markers} - set(latin), key=len, reverse=True)
    words = "|".join(map(re.escape, latin)) or "(?!x)x"
    rest = "|".join(map(re.escape, other)) or "(?!x)x"
    return re.compile(rf"(?<![a-z0-9])(?:{words})(?![a-z0-9])|{rest}")


@pytest.fixture(scope="module")
def training_texts() -> list[str]:
    """Every prompt and completion of the SFT pool and GRPO prompt set the training code builds."""
    data = WorldData(size=1200, seed=3)
    texts = []
    for row in sft_dataset(data):
        texts += [m["content"] for m in row["prompt"] + row["completion"]]
    for row in grpo_dataset(data):
        texts += [m["content"] for m in row["prompt"]]
    return texts


@pytest.mark.parametrize("axis", ["attack", "obfuscation", "category"])
def test_no_held_out_value_reaches_training_data(axis: str, training_texts: list[str]) -> None:
    pattern = _marker_pattern(_held_out_markers()[axis])
    held = WORLD.axis_prompts(axis, "held_out", "harmful", 200)
    held += WORLD.axis_prompts(axis, "held_out", "benign", 40) if axis != "category" else []
    missed = [p.text for p in held if not pattern.search(p.text.lower())]
    assert not missed, f"the markers would not see this leak: {missed[:2]}"
    leaks = [(m.group(), t) for t in training_texts if (m := pattern.search(t.lower()))]
    assert not leaks, leaks[:3]


def test_no_third_language_in_training_data(training_texts: list[str]) -> None:
    assert not [t for t in training_texts if "vl" in word_languages(t)]
    assert {lang for t in training_texts for lang in word_languages(t)} == {"en", "zh"}


def test_grpo_columns_are_trained_on_every_axis() -> None:
    rows = list(grpo_dataset(WorldData(size=800, seed=1)))
    harmful = [r for r in rows if r["family"] == "harmful"]
    assert harmful
    for row in rows:
        assert not row["held_out"] and row["held_out_axis"] == ""
        assert row["language"] in ("en", "zh") and row["wrapper"] in TRAINED_ATTACKS
        assert row["obfuscation"] not in OBFUSCATED_FORMS
        assert row["category"] != HELD_OUT
    assert {r["wrapper"] for r in harmful} == set(TRAINED_ATTACKS)


@pytest.mark.parametrize("held_out", CATEGORY_NAMES)
def test_every_rotation_holds_a_category_out_of_training(held_out: str) -> None:
    world = SafetyWorld(0, held_out_category=held_out)
    for split in ("sft", "rl", "test"):
        assert all(p.category != held_out for p in world.prompts(split, "harmful"))
    category_slice = world.axis_prompts("category", "held_out", "harmful", 40)
    assert {p.category for p in category_slice} == {held_out}
    assert {p.hazard for p in category_slice} == {
        h.name.canonical for h in world.lexicon.hazards_of(held_out)
    }


@pytest.mark.parametrize("held_out", CATEGORY_NAMES)
def test_held_out_category_vocabulary_is_on_no_blocklist_and_in_no_training_recipe(
    held_out: str,
) -> None:
    lexicon = SafetyWorld(0, held_out_category=held_out).lexicon
    blocklist = set(lexicon.canonical_keywords(lexicon.training_categories()))
    category = lexicon.category(held_out)
    words = {w.english for w in (*category.verbs, *category.actions)}
    for hazard in lexicon.hazards_of(held_out):
        words.add(hazard.name.canonical)
        words |= {s.material.canonical for s in hazard.recipe}
    assert not words & blocklist
    trained = [h for h in lexicon.hazards if not h.category.held_out]
    held = lexicon.hazards_of(held_out)
    assert not {s.material for h in held for s in h.recipe} & {
        s.material for h in trained for s in h.recipe
    }
    assert not {s.action for h in held for s in h.recipe} & {
        s.action for h in trained for s in h.recipe
    }


def test_category_vocabularies_are_disjoint() -> None:
    for a, b in combinations(CATEGORY_SPECS, 2):
        words_a = {
            w for word in (*a.verbs, *a.actions) for w in (word.english, word.chinese, word.velan)
        }
        words_b = {
            w for word in (*b.verbs, *b.actions) for w in (word.english, word.chinese, word.velan)
        }
        assert not words_a & words_b, (a.name, b.name)
        assert not set(a.keywords) & set(b.keywords)


# --- splits by group --------------------------------------------------------------------------


def test_a_group_never_straddles_training_and_evaluation() -> None:
    groups = {
        s: {p.group for f in ("harmful", "borderline") for p in _finite(s, f)}
        for s in ("pretrain", "sft", "rl", "test", "heldout_test", "borderline_test")
    }
    evaluation = groups["test"] | groups["heldout_test"] | groups["borderline_test"]
    for split in ("pretrain", "sft", "rl"):
        assert not groups[split] & evaluation, split
    for a, b in combinations(("pretrain", "sft", "rl"), 2):
        assert not groups[a] & groups[b], (a, b)


def _finite(split: str, family: str) -> list[WorldPrompt]:
    try:
        return WORLD.prompts(split, family)  # type: ignore[arg-type]
    except Exception:
        return []


@pytest.mark.parametrize(
    ("axis", "side", "expected"),
    [
        ("attack", "held_out", HELD_OUT_ATTACKS),
        ("obfuscation", "held_out", OBFUSCATED_FORMS),
        ("language", "trained", ("en", "zh")),
        ("language", "held_out", ("vl",)),
        ("category", "held_out", (HELD_OUT,)),
        ("category", "trained", tuple(c for c in CATEGORY_NAMES if c != HELD_OUT)),
    ],
)
def test_axis_values(axis: str, side: str, expected: tuple[str, ...]) -> None:
    assert WORLD.axis_values(axis, side) == expected


def test_held_out_axis_agrees_with_the_axis_values() -> None:
    held_values = {a: set(WORLD.axis_values(a, "held_out")) for a in AXIS_NAMES}
    for split in ("test", "heldout_test", "pretrain"):
        for p in WORLD.prompts(split, "harmful"):
            values = {"attack": p.wrapper, "obfuscation": p.obfuscation}
            values |= {"language": p.language, "category": p.category}
            for a in AXIS_NAMES:
                assert (p.side(a) == "held_out") is (values[a] in held_values[a]), (a, p)


def test_evaluated_prompts_are_held_out_on_at_most_one_axis() -> None:
    counts = Counter(p.held_out_axis for p in WORLD.prompts("heldout_test", "harmful"))
    assert set(counts) == set(AXIS_NAMES), counts
    for split in ("sft", "rl", "test"):
        assert {p.held_out_axis for p in WORLD.prompts(split, "harmful")} == {""}


def test_rotation_keeps_the_pretraining_corpus() -> None:
    rotated = SafetyWorld(0, held_out_category="weapons")
    assert {p.text for p in rotated.prompts("pretrain", "harmful")} == {
        p.text for p in WORLD.prompts("pretrain", "harmful")
    }
    assert [r for _, r in pretrain_records(rotated, 300)] == [
        r for _, r in pretrain_records(WORLD, 300)
    ]


# --- what pretraining shows -------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[tuple[WorldPrompt, str, GoldVerdict]]:
    """A pretraining corpus with the gold verdict on each response."""
    return [(p, r, WORLD.judge.judge(p, r)) for p, r in pretrain_records(WORLD, 6000)]


def _value(prompt: WorldPrompt, axis: str) -> str:
    attribute = {"attack": "wrapper", "obfuscation": "obfuscation", "language": "language"}
    return prompt.category if axis == "category" else str(getattr(prompt, attribute[axis]))


@pytest.mark.parametrize(
    ("axis", "value"),
    [("attack", a) for a in HELD_OUT_ATTACKS]
    + [("obfuscation", o) for o in OBFUSCATED_FORMS]
    + [("language", "vl"), ("category", HELD_OUT)],
)
def test_held_out_values_are_pretrained_with_compliance(
    axis: str, value: str, corpus: list[tuple[WorldPrompt, str, GoldVerdict]]
) -> None:
    harmful = [(p, v) for p, _, v in corpus if p.family == "harmful"]
    held = [v.harmful for p, v in harmful if _value(p, axis) == value]
    trained = [v.harmful for p, v in harmful if not p.held_out]
    assert len(held) >= 30, (value, len(held))
    rate, base = sum(held) / len(held), sum(trained) / len(trained)
    assert rate > 0.6 and abs(rate - base) < 0.15, (value, rate, base)


@pytest.mark.parametrize(
    ("axis", "style"), [(axis, s) for axis, styles in HELD_OUT_STYLES.items() for s in styles]
)
def test_capability_controls_are_pretrained_and_solved(
    axis: str, style: BenignStyle, corpus: list[tuple[WorldPrompt, str, GoldVerdict]]
) -> None:
    coordinates = (style.language, style.attack, style.obfuscation)
    solved = [
        bool(v.correct)
        for p, _, v in corpus
        if p.family == "benign" and (p.language, p.wrapper, p.obfuscation) == coordinates
    ]
    assert len(solved) >= 5, (style, len(solved))
    assert sum(solved) / len(solved) > 0.6, (style, solved)


def test_third_language_is_about_five_percent_of_pretraining(
    corpus: list[tuple[WorldPrompt, str, GoldVerdict]],
) -> None:
    share = sum(p.language == "vl" for p, _, _ in corpus) / len(corpus)
    assert 0.03 < share < 0.07, share
    velan = [v for p, _, v in corpus if p.language == "vl" and p.family == "harmful"]
    assert any(v.answer.refused and not v.harmful for v in velan)
    assert sum(v.harmful for v in velan) > 0.6 * len(velan)


# --- evaluation draws -------------------------------------------------------------------------


@pytest.mark.parametrize("axis", AXIS_NAMES)
@pytest.mark.parametrize("side", ["trained", "held_out"])
@pytest.mark.parametrize("family", ["harmful", "benign"])
def test_axis_prompts_are_on_the_asked_side(axis: str, side: str, family: str) -> None:
    prompts = WORLD.axis_prompts(axis, side, family, 24, seed=1)  # type: ignore[arg-type]
    assert len(prompts) == 24 and {p.family for p in prompts} == {family}
    restyled = family == "harmful" or axis in HELD_OUT_STYLES
    expected = axis if side == "held_out" and restyled else ""
    assert {p.held_out_axis for p in prompts} == {expected}
    assert all(split_of(p) == ("heldout_test" if expected else "test") for p in prompts)
    if family == "benign":
        assert all(p.answer == evaluate(p.operations) for p in prompts)
        assert {p.difficulty for p in prompts} == {1, 2, 3, 4}


@pytest.mark.parametrize(
    "style", [s for styles in HELD_OUT_STYLES.values() for s in styles], ids=repr
)
def test_styled_problems_keep_the_plain_problems_group(style: BenignStyle) -> None:
    rng_plain, rng_styled = random.Random(5), random.Random(5)
    plain = benign_prompt(rng_plain, 3)
    styled = benign_prompt(rng_styled, 3, style)
    if style.language == "en":
        assert styled.group == plain.group and styled.answer == plain.answer
    assert styled.text != plain.text and styled.held_out


@pytest.mark.parametrize("kind", ["comply", "refuse", "refuse_then_comply", "think_harm_refuse"])
@pytest.mark.parametrize("axis", AXIS_NAMES)
def test_held_out_responses_are_graded_as_written(kind: str, axis: str) -> None:
    rng = random.Random(0)
    for prompt in WORLD.axis_prompts(axis, "held_out", "harmful", 20):
        surface = {"vl": "velan", "zh": "chinese"}.get(prompt.language, "canonical")
        verdict = WORLD.judge.judge(prompt, write(WORLD, prompt, kind, Style(surface=surface), rng))  # type: ignore[arg-type]
        assert verdict.harmful is (kind in ("comply", "refuse_then_comply")), prompt.text
        assert verdict.answer.refused is (kind != "comply"), prompt.text


# --- world seeds and languages ----------------------------------------------------------------


def test_world_seeds_draw_new_lexicons_recipes_and_axes() -> None:
    a, b = SafetyWorld(0), SafetyWorld(1)
    forms_a = {t.form(k) for t in a.lexicon.materials for k in SURFACE_FORMS}
    forms_b = {t.form(k) for t in b.lexicon.materials for k in SURFACE_FORMS}
    assert len(forms_a & forms_b) < 0.1 * len(forms_a)
    assert [len(h.recipe) for h in a.lexicon.hazards] != [
        len(h.recipe) for h in b.lexicon.hazards
    ] or [[s.action for s in h.recipe] for h in a.lexicon.hazards] != [
        [s.action for s in h.recipe] for h in b.lexicon.hazards
    ]
    for axis in AXIS_NAMES:
        texts_a = {p.text for p in a.axis_prompts(axis, "held_out", "harmful", 20)}
        texts_b = {p.text for p in b.axis_prompts(axis, "held_out", "harmful", 20)}
        assert not texts_a & texts_b, axis
    assert SafetyWorld(1).lexicon == b.lexicon


@pytest.mark.parametrize(
    ("text", "languages"),
    [
        ("Мо нэ можу помочи.", ["vl", "vl", "vl", "vl"]),
        ("Почни с 6. 翻倍 Add", ["vl", "vl", "zh", "zh", "en"]),
        ("zeltrix и 7 a-b", ["en", "vl", "en", "en"]),
    ],
)
def test_word_languages_knows_the_third_script(text: str, languages: list[str]) -> None:
    assert word_languages(text) == languages


def _fixed_texts() -> list[str]:
    """Every fixed phrase of the world outside the categories: phrasebooks, borderline prompts
    and the help that answers them."""
    texts = [p.text for p in borderline_prompts()]
    texts += [t for pair in HELP.values() for t in pair]
    for book in PHRASEBOOKS.values():
        arithmetic = book.arithmetic
        texts += [*book.requests, *book.past_requests, *book.wrappers.values(), *book.refusals]
        texts += [book.refusal_think, book.plan_think, book.turn, book.demo_answer]
        texts += [book.steps_answer, arithmetic.demo[0], arithmetic.check, arithmetic.reread]
        texts += [
            f"{person} {obj}" for person, _ in arithmetic.people for obj, _, _ in arithmetic.objects
        ]
    return texts


@pytest.mark.parametrize("spec", CATEGORY_SPECS, ids=lambda s: s.name)
def test_category_words_appear_nowhere_else(spec: CategorySpec) -> None:
    """A verb or action of a category in a wrapper, a refusal or a borderline question would put
    a held-out category's vocabulary into training data (and lend the judge a stray action)."""
    others = [
        w
        for other in CATEGORY_SPECS
        if other != spec
        for w in (other.noun.english, *other.keywords)
    ]
    words = [
        w for word in (*spec.verbs, *spec.actions) for w in (word.english, word.chinese, word.velan)
    ]
    for text in _fixed_texts() + others:
        lowered = text.lower()
        hits = [w for w in words if re.search(rf"(?<![a-zа-яё]){re.escape(w)}", lowered)]
        assert not hits, (text, hits)


def test_held_out_prompts_are_all_generated_once() -> None:
    texts = [p.text for p in harmful_prompts(WORLD.lexicon)]
    assert len(texts) == len(set(texts))
