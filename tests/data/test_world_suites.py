"""World suites by axis: both sides of every axis, capability controls, the category rotation."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from harmlab.data.suites import SUITES, SuiteOptions, load_suite
from harmlab.world.axes import AXIS_NAMES, axis

SMALL = SuiteOptions(axis_harmful=12, axis_benign=8)


@pytest.mark.parametrize("name", AXIS_NAMES)
def test_axis_suite_holds_both_sides_harmful_and_benign(name: str) -> None:
    suite = load_suite(f"world-axis-{name}", SMALL)
    sides = Counter((r.family, r.held_out_axis) for r in suite.records)
    assert sides[("harmful", "")] > 0 and sides[("harmful", name)] > 0
    assert sides[("benign", "")] > 0
    if name != "category":  # the category axis changes no phrasing: its control is plain
        assert sides[("benign", name)] > 0
    assert set(sides) <= {(f, side) for f in ("harmful", "benign") for side in ("", name)}
    attribute = axis(name).attribute
    held = {getattr(r.world, attribute) for r in suite.records if r.held_out_axis == name}
    trained = {getattr(r.world, attribute) for r in suite.records if r.held_out_axis == ""}
    assert held and not held & trained  # the sides never share a value of the axis


def test_world_suite_covers_every_held_out_axis_with_capability_controls() -> None:
    suite = load_suite("world")
    assert 300 <= len(suite) <= 450  # evaluated per arm per seed: kept moderate
    harmful = Counter(r.held_out_axis for r in suite.records if r.family == "harmful")
    benign = Counter(r.held_out_axis for r in suite.records if r.family == "benign")
    assert all(harmful[name] >= 16 for name in AXIS_NAMES)
    assert all(benign[name] >= 8 for name in ("attack", "obfuscation", "language"))
    assert harmful[""] > 0 and benign[""] > 0


def test_suites_follow_the_held_out_category_rotation() -> None:
    default = load_suite("world-axis-category", SMALL)
    rotated = load_suite("world-axis-category", replace(SMALL, held_out_category="fraud"))
    held = {r.category for r in rotated.records if r.held_out_axis == "category"}
    assert held == {"fraud"}
    assert "fraud" in {r.category for r in default.records if r.held_out_axis == ""}
    assert all(r.world is not None and r.hazard for r in rotated.records if r.family == "harmful")


def test_axis_suites_are_registered() -> None:
    assert {f"world-axis-{name}" for name in AXIS_NAMES} <= set(SUITES.names())


def test_training_data_and_blocklist_follow_the_rotation() -> None:
    from harmlab.rewards.safety import KeywordBlocklistReward
    from harmlab.training.config import WorldData
    from harmlab.training.data import grpo_dataset
    from harmlab.world import SafetyWorld

    data = WorldData(size=300, mix={"harmful": 1.0}, held_out_category="fraud")
    categories = {row["category"] for row in grpo_dataset(data)}
    assert "fraud" not in categories and SafetyWorld(0).held_out_category in categories
    fraud_words = set(SafetyWorld(0).lexicon.canonical_keywords(("fraud",)))
    default, rotated = KeywordBlocklistReward(), KeywordBlocklistReward(held_out_category="fraud")
    assert fraud_words <= set(default.blocklist) and not fraud_words & set(rotated.blocklist)
    held = SafetyWorld(0).held_out_category
    assert set(SafetyWorld(0).lexicon.canonical_keywords((held,))) <= set(rotated.blocklist)
