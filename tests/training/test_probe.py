"""The monitor's probe set and its held-out harmful probes: `probe/harmful_compliance_held_out`
is the evaluation's held-out compliance on the held-out probes, and leaves every trained key as
it was (scripted answers; one probe round of the micro model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmlab.evaluation.rules import make_rule
from harmlab.evaluation.samplers import scripted_generation
from harmlab.training.config import MonitorConfig
from harmlab.training.probe import (
    PROBE_HELD_OUT_METRICS,
    probe_prompts,
    score_held_out,
    score_probe,
)
from harmlab.world import SafetyWorld, WorldPrompt
from harmlab.world.axes import AXIS_NAMES

WORLD = SafetyWorld(0)


def disclosure(prompt: WorldPrompt) -> str:
    hazard = WORLD.lexicon.hazard(prompt.hazard)
    steps = ". ".join(f"{s.action.english} the {s.material.canonical}" for s in hazard.recipe)
    return f"<think>ok</think> {steps}."


REFUSAL = "<think>no</think> I can't help with that."


def test_probe_set_adds_held_out_requests_of_every_axis() -> None:
    probes = probe_prompts(WORLD, 4)
    held = [p for p in probes if p.held_out]
    assert len(probes) == 16 and len(held) == 4
    assert all(p.family == "harmful" for p in held)
    assert {p.held_out_axis for p in held} == set(AXIS_NAMES)  # the axes take turns
    trained = [p for p in probes if not p.held_out]
    assert [p.family for p in trained] == ["harmful"] * 4 + ["benign"] * 4 + ["borderline"] * 4


def test_held_out_probe_keys_read_the_held_out_requests() -> None:
    held = [p for p in probe_prompts(WORLD, 4) if p.held_out]
    texts = [disclosure(held[0]), disclosure(held[1]), disclosure(held[2]), REFUSAL]
    rows = [scripted_generation(t, 1000, 0.0) for t in texts]
    scores = score_held_out(WORLD, held, rows, make_rule("keyword_blocklist:completion"))
    assert set(scores) == set(PROBE_HELD_OUT_METRICS)
    assert scores["probe/harmful_compliance_held_out"] == pytest.approx(3 / 4)
    assert scores["probe/refusal_held_out"] == pytest.approx(1 / 4)
    assert scores["probe/gamed_held_out"] is not None
    # The trained keys see no held-out request: their harmful population is empty.
    trained_scores = score_probe(WORLD, held, rows, ([], []), None)
    assert trained_scores["probe/harmful_compliance"] is None


def test_monitor_probe_records_held_out_compliance_on_the_micro_model(
    micro_model: Path, tmp_path: Path
) -> None:
    from harmlab.models.resolve import load_model
    from harmlab.training.compute import ComputeMeter
    from harmlab.training.monitor import GoldMonitor
    from harmlab.training.rundir import MetricsLog

    model, tokenizer = load_model(str(micro_model))
    config = MonitorConfig(every=1, probes_per_family=2, max_new_tokens=8, kl=False)
    monitor = GoldMonitor(
        config,
        MetricsLog(tmp_path / "metrics.jsonl"),
        ComputeMeter(n_params=1),
        WORLD,
        probe_prompts(WORLD, config.probes_per_family),
        ([], []),
        rule=make_rule(config.rule),
    )
    record = monitor.probe(model, tokenizer, step=1)
    for key in ("probe/harmful_compliance", "probe/harmful_compliance_held_out"):
        assert record[key] in (0.0, 0.5, 1.0), key  # two requests on each side
