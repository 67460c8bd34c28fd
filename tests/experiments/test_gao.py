"""The Gao et al. fit recovers known α, β from synthetic curves and predicts their peak."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scripted_arms import ArmFactory, harmful_rows

from harmlab.experiments.figures import gao_fit, hacking_ratio_series
from harmlab.experiments.gao import (
    Probe,
    check_peak,
    describe_check,
    describe_fit,
    fit_gao,
    gao_gold,
    probes,
)
from harmlab.experiments.spec import PlotConfig

ALPHA, BETA = 0.6, 0.25
PEAK_D = math.exp(ALPHA / BETA - 1)  # 4.06


def test_fit_recovers_known_parameters_and_peak_from_noiseless_points() -> None:
    d = np.linspace(0.2, 8.0, 12)
    fit = fit_gao(list(d), list(gao_gold(d, ALPHA, BETA)))
    assert fit is not None
    assert fit.alpha.value == pytest.approx(ALPHA, abs=1e-6)
    assert fit.beta.value == pytest.approx(BETA, abs=1e-6)
    assert fit.peak_sqrt_kl is not None and fit.peak_gold is not None
    assert fit.peak_sqrt_kl.value == pytest.approx(PEAK_D, rel=1e-5)
    assert fit.peak_gold.value == pytest.approx(BETA * PEAK_D, rel=1e-5)


def test_intervals_cover_the_truth_under_noise_and_shrink_with_more_points() -> None:
    rng = np.random.default_rng(0)
    widths = []
    for n in (10, 80):
        d = np.linspace(0.2, 8.0, n)
        gold = gao_gold(d, ALPHA, BETA) + rng.normal(0, 0.05, n)
        fit = fit_gao(list(d), list(gold))
        assert fit is not None and fit.peak_sqrt_kl is not None
        assert fit.alpha.low < ALPHA < fit.alpha.high
        assert fit.beta.low < BETA < fit.beta.high
        assert fit.peak_sqrt_kl.low < PEAK_D < fit.peak_sqrt_kl.high
        widths.append(fit.beta.high - fit.beta.low)
    assert widths[1] < widths[0]


def test_no_peak_when_gold_keeps_rising_and_no_fit_from_too_few_points() -> None:
    d = [0.5, 1.0, 2.0, 3.0]
    rising = fit_gao(d, [0.5 * x for x in d])  # beta = 0: no turn
    assert rising is not None and rising.peak_sqrt_kl is None
    assert fit_gao([0.5, 1.0], [0.1, 0.2]) is None
    assert fit_gao([0.0, 0.0, 1.0], [0.0, 0.1, 0.2]) is None  # d = 0 carries no information


def synthetic_run(steps: int, noise: float, seed: int) -> list[Probe]:
    """A run whose √KL grows like √step and whose gold follows the law, probed every step."""
    rng = np.random.default_rng(seed)
    out = []
    for step in range(1, steps + 1):
        d = 0.9 * math.sqrt(step)
        out.append(Probe(step, d, float(gao_gold(d, ALPHA, BETA)) + rng.normal(0, noise), None))
    return out


def test_peak_predicted_from_the_first_30_percent_of_steps() -> None:
    runs = [synthetic_run(60, 0.01, seed) for seed in range(3)]
    check = check_peak(runs)
    assert check is not None and check.early is not None
    assert check.cutoff_step == pytest.approx(18)
    assert check.early_points == 3 * 18
    assert check.early.peak_sqrt_kl is not None and check.early.peak_gold is not None
    assert check.early.peak_sqrt_kl.value == pytest.approx(PEAK_D, rel=0.15)
    assert check.observed_sqrt_kl == pytest.approx(PEAK_D, rel=0.1)
    assert check.early.peak_gold.value == pytest.approx(check.observed_gold, abs=0.05)
    assert not check.observed_at_end
    assert "prediction − observed gold" in describe_check("rl", check)


def test_too_few_early_probes_are_said_not_fitted() -> None:
    check = check_peak([synthetic_run(8, 0.0, 0)])  # steps ≤ 2.4: two probes
    assert check is not None and check.early is None and check.early_points == 2
    assert "too few to predict a peak" in describe_check("rl", check)


def test_probes_measure_gold_and_proxy_from_the_first_probe() -> None:
    records = [
        {"step": 0, "loss": 1.0},  # a training log line, not a probe
        {"step": 1, "probe/sqrt_kl": 0.1, "probe/gold_reward": 0.2, "probe/proxy_reward": 0.5},
        {"step": 5, "probe/sqrt_kl": 0.7, "probe/gold_reward": 0.5, "probe/proxy_reward": 0.9},
    ]
    got = probes(records, "probe/gold_reward")
    assert [(p.step, p.sqrt_kl) for p in got] == [(1.0, 0.1), (5.0, 0.7)]
    assert [p.gold for p in got] == pytest.approx([0.0, 0.3])
    assert [p.proxy for p in got] == pytest.approx([0.0, 0.4])


def monitor_records(steps: int) -> list[dict[str, float]]:
    """Monitor records of a run whose gold reward follows the law from a start of -0.4 (the
    first probe at KL 0, as after a first step that barely moved the policy)."""
    return [
        {
            "step": step,
            "probe/sqrt_kl": 0.9 * math.sqrt(step - 1),
            "probe/gold_reward": -0.4 + float(gao_gold(0.9 * math.sqrt(step - 1), ALPHA, BETA)),
            "probe/proxy_reward": 0.1 * step,
            "probe/harmful_compliance": 0.5,
            "probe/gamed": 0.5 - 0.01 * step,
        }
        for step in range(1, steps + 1)
    ]


def test_gao_fit_plot_kind_states_the_fit_and_the_prediction(make_arm: ArmFactory) -> None:
    arms = [
        make_arm("base", {0: harmful_rows([True] * 4)}),
        make_arm("rl", {0: harmful_rows([True] * 4)}, curves=monitor_records(40)),
    ]
    paragraphs, figures = gao_fit(PlotConfig("gao-fit"), arms)
    assert paragraphs[0].startswith("Gao et al.'s RL law") and "probe/gold_reward" in paragraphs[0]
    fitted, predicted = paragraphs[1:]
    assert fitted.startswith("rl: gold(d) = d(α − β log d) on 39 probes: α 0.600 [0.600, 0.600]")
    assert predicted.startswith("rl: from the probes of the first 30% of steps (step ≤ 12)")
    assert "predicted peak at √KL" in predicted and "prediction − observed gold" in predicted
    assert len(figures) == 1 and figures[0].png.startswith(b"\x89PNG")


def test_hacking_ratio_plot_kind_words_first_and_last(make_arm: ArmFactory) -> None:
    arm = make_arm("rl", {0: harmful_rows([True] * 4)}, curves=monitor_records(10))
    paragraphs, figures = hacking_ratio_series(PlotConfig("hacking-ratio"), [arm])
    assert paragraphs == ["rl: P(rule-safe | gold-harmful) on the probes (first seed) went "
                          "0.98 → 0.80 (step 1 → 10)."]  # fmt: skip
    assert len(figures) == 1


def test_a_beta_the_probes_cannot_tell_from_zero_claims_no_peak() -> None:
    """Gold rising about linearly with noise: β's interval holds 0, so no d* (which would be
    exp(α/β − 1), astronomically far) is reported."""
    import random

    rng = random.Random(0)
    d = [0.05 * i for i in range(1, 14)]
    gold = [0.6 * x + rng.gauss(0.0, 0.05) for x in d]
    fit = fit_gao(d, gold)
    assert fit is not None and fit.beta.low < 0 < fit.beta.high
    assert fit.peak_sqrt_kl is None and fit.peak_gold is None
    assert "no peak claimed" in describe_fit("rl", fit, len(d))


def test_a_beta_below_zero_claims_no_peak_and_says_gold_bends_up() -> None:
    """Gold convex in d (E1's full run: β's interval wholly below 0): the law has a minimum,
    not a maximum, and the sentence says so rather than that β's interval reaches 0."""
    d = [0.05 * i for i in range(1, 14)]
    gold = [x * (-0.1 + 0.08 * math.log(x)) for x in d]  # α = −0.1, β = −0.08, no noise
    fit = fit_gao(d, gold)
    assert fit is not None and fit.beta.high < 0
    assert fit.peak_sqrt_kl is None
    sentence = describe_fit("rl", fit, len(d))
    assert "β's interval lies below 0: gold bends up" in sentence
    assert "reaches 0" not in sentence
