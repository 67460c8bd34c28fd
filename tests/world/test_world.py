"""SafetyWorld: lexicon, prompt families, disjoint splits, response families."""

from __future__ import annotations

import contextlib
import random
from itertools import combinations

import pytest

from harmlab import HarmlabError
from harmlab.world import SPLITS, SURFACE_FORMS, SafetyWorld, pretrain_conversations, split_of
from harmlab.world.corpus import write
from harmlab.world.responses import Style

WORLD = SafetyWorld(0)


def test_world_is_seeded() -> None:
    assert SafetyWorld(0).lexicon == SafetyWorld(0).lexicon
    assert SafetyWorld(0).lexicon != SafetyWorld(1).lexicon
    assert pretrain_conversations(SafetyWorld(3), 50) == pretrain_conversations(SafetyWorld(3), 50)


def test_lexicon_shape() -> None:
    lexicon = WORLD.lexicon
    assert len(lexicon.categories) >= 6
    assert any(c.held_out for c in lexicon.categories)
    for hazard in lexicon.hazards:
        assert 3 <= len(hazard.recipe) <= 5
        assert len({s.material for s in hazard.recipe}) == len(hazard.recipe)
    forms = [
        t.form(k)
        for t in lexicon.materials + tuple(h.name for h in lexicon.hazards)
        for k in SURFACE_FORMS
    ]
    assert len(forms) == len(set(forms)), "every surface form of every term is unique"


def test_blocklist_sees_only_canonical_training_keywords() -> None:
    train = tuple(c.name for c in WORLD.lexicon.categories if not c.held_out)
    keywords = set(WORLD.lexicon.canonical_keywords(train))
    for hazard in WORLD.lexicon.hazards:
        assert (hazard.name.canonical in keywords) is (not hazard.category.held_out)
        assert hazard.name.chinese not in keywords and hazard.name.synonym not in keywords


def _ids(split: str) -> set[str]:
    ids = set()
    for family in ("harmful", "borderline"):
        with contextlib.suppress(HarmlabError):
            ids |= {p.text for p in WORLD.prompts(split, family)}
    with contextlib.suppress(HarmlabError):
        ids |= {p.text for p in WORLD.sample(split, "benign", 200)}
    return ids


def test_splits_never_share_an_item() -> None:
    texts = {split: _ids(split) for split in SPLITS}
    for a, b in combinations(SPLITS, 2):
        assert not texts[a] & texts[b], (a, b)


def test_held_out_categories_never_reach_sft_or_rl() -> None:
    for split in ("sft", "rl", "test"):
        assert not any(p.held_out for p in WORLD.prompts(split, "harmful"))
    held = WORLD.prompts("heldout_test", "harmful")
    assert held and all(p.held_out for p in held)
    assert any(p.held_out for p in WORLD.prompts("pretrain", "harmful"))


def test_harmful_prompts_cover_languages_and_wrappers() -> None:
    prompts = WORLD.prompts("test", "harmful")
    assert {p.language for p in prompts} == {"en", "zh"}
    assert {p.wrapper for p in prompts} >= {"", "fiction", "roleplay", "ignore"}


def test_benign_prompts_have_verifiable_answers_per_difficulty() -> None:
    prompts = WORLD.sample("test", "benign", 40)
    assert {p.difficulty for p in prompts} == {1, 2, 3, 4}
    for p in prompts:
        assert p.answer is not None and p.answer >= 0
        assert len(p.operations) == p.difficulty + 1
        assert split_of(p) == "test"


def test_borderline_prompts_contain_blocklist_words() -> None:
    keywords = WORLD.lexicon.canonical_keywords()
    english = [p for p in WORLD.prompts("borderline_test", "borderline") if p.language == "en"]
    assert english
    for prompt in english:
        assert any(k in prompt.text.lower() for k in keywords), prompt.text


def test_bad_split_or_family_is_a_clear_error() -> None:
    with pytest.raises(HarmlabError, match="valid splits"):
        WORLD.sample("nope", "harmful", 1)
    with pytest.raises(HarmlabError, match="has no 'benign'"):
        WORLD.sample("borderline_test", "benign", 1)


@pytest.mark.parametrize("kind", ["comply", "refuse", "refuse_then_comply", "think_harm_refuse"])
@pytest.mark.parametrize("surface", SURFACE_FORMS)
def test_harmful_response_families_are_graded_as_written(kind: str, surface: str) -> None:
    rng = random.Random(0)
    for prompt in WORLD.prompts("sft", "harmful")[:40]:
        response = write(WORLD, prompt, kind, Style(surface=surface), rng)  # type: ignore[arg-type]
        verdict = WORLD.judge.judge(prompt, response)
        assert verdict.format_valid
        assert verdict.harmful is (kind in ("comply", "refuse_then_comply")), response
        assert verdict.answer.refused is (kind != "comply"), response
        assert verdict.harm_behind_refusal is (kind == "think_harm_refuse"), response
        if verdict.harmful:
            assert surface in verdict.answer.surface_forms, response


@pytest.mark.parametrize("think", ["concise", "verbose", "mixed"])
def test_reasoning_styles_and_wrong_answers(think: str) -> None:
    rng = random.Random(0)
    lengths = []
    for prompt in WORLD.sample("sft", "benign", 30):
        right = WORLD.judge.judge(prompt, write(WORLD, prompt, "solve", Style(think=think), rng))  # type: ignore[arg-type]
        wrong = WORLD.judge.judge(
            prompt,
            write(WORLD, prompt, "solve", Style(think=think, correct=False), rng),  # type: ignore[arg-type]
        )
        assert right.correct and not wrong.correct
        assert right.language_mixed is (think == "mixed")
        lengths.append(len(write(WORLD, prompt, "solve", Style(think=think), rng)))  # type: ignore[arg-type]
    assert lengths


def test_verbose_reasoning_is_longer_than_concise() -> None:
    prompt = WORLD.sample("sft", "benign", 1, difficulties=(3,))[0]
    rng = random.Random(0)
    concise = write(WORLD, prompt, "solve", Style(think="concise"), rng)
    verbose = write(WORLD, prompt, "solve", Style(think="verbose"), rng)
    assert len(verbose) > 1.5 * len(concise)


def test_pretrain_corpus_mimics_an_unaligned_base_model() -> None:
    conversations = pretrain_conversations(WORLD, 2000)
    by_text = {p.text: p for f in ("harmful", "borderline") for p in WORLD.prompts("pretrain", f)}
    harmful = [
        (by_text[p], r) for p, r in conversations if p in by_text and by_text[p].family == "harmful"
    ]
    verdicts = [WORLD.judge.judge(p, r) for p, r in harmful]
    complied = sum(v.harmful for v in verdicts) / len(verdicts)
    refused = sum(v.answer.refused and not v.harmful for v in verdicts) / len(verdicts)
    assert complied > 0.7 and 0 < refused < 0.2
    forms = {f for v in verdicts for f in v.answer.surface_forms}
    assert forms == set(SURFACE_FORMS)
    assert any(v.harm_behind_refusal for v in verdicts)
    assert any(not WORLD.judge.judge(p, r).format_valid for p, r in harmful)
