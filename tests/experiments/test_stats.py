"""The A/B formulas against hand computations and the distributions' closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlscope.release.experiments import stats
from mlscope.release.experiments.bandits import BanditState, simulate
from mlscope.release.monitoring.drift import feature_drift, psi


def test_srm_is_pearsons_chi_squared_against_the_weights() -> None:
    # 10,044 vs 9,956 units on a 50/50 split: chi2 = 2 * 44^2 / 10,000 = 0.3872 on 1 dof,
    # whose survival function is erfc(sqrt(x / 2)).
    res = stats.sample_ratio_mismatch([10_044, 9_956], [0.5, 0.5])
    assert res.statistic == pytest.approx(0.3872)
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(0.3872 / 2)))
    assert not res.mismatch
    # 90/10 configured, 85/15 observed on 10,000 units: chi2 = 500^2/9000 + 500^2/1000
    res = stats.sample_ratio_mismatch([8_500, 1_500], [0.9, 0.1])
    assert res.statistic == pytest.approx(500**2 / 9000 + 500**2 / 1000)
    assert res.mismatch


def test_relative_lift_by_the_delta_method() -> None:
    control = stats.Summary("A", 10_000, 0.10, 0.09)
    treat = stats.Summary("B", 10_000, 0.11, 0.0979)
    lift = stats.relative_lift(control, treat)
    assert lift.estimate == pytest.approx(0.10)
    # Var(mt/mc) ~ vt/(nt mc^2) + mt^2 vc/(nc mc^4), by hand:
    var = 0.0979 / 10_000 / 0.01 + 0.0121 * 0.09 / 10_000 / 0.0001
    assert lift.se == pytest.approx(math.sqrt(var))
    # Welch-Satterthwaite dof is large here, so the interval is ~ +-1.96 SE
    assert lift.ci_low == pytest.approx(0.10 - 1.95996 * math.sqrt(var), rel=1e-3)
    z = 0.10 / math.sqrt(var)
    assert lift.chance_to_win == pytest.approx(0.5 * math.erfc(-z / math.sqrt(2)))
    assert lift.p_value == pytest.approx(math.erfc(0.10 / math.sqrt(var) / math.sqrt(2)), rel=1e-2)


def test_confidence_sequence_half_width_by_hand() -> None:
    # Waudby-Smith et al. (2023) eq. 9 with rho from eq. 161, alpha 0.05, N* = 10,000
    alpha, tuning, n, se = 0.05, 10_000, 20_000, 0.01
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    expect = math.sqrt(se**2 * n * 2 * (n * rho2 + 1) / (n**2 * rho2)
                       * math.log(math.sqrt(n * rho2 + 1) / alpha))
    assert stats.cs_halfwidth(se, n, tuning, alpha) == pytest.approx(expect)
    # always wider than the fixed-horizon interval at the same alpha
    assert expect > 1.96 * se


def test_sequential_p_value_inverts_the_sequence() -> None:
    control = stats.Summary("A", 5_000, 0.10, 0.09)
    treat = stats.Summary("B", 5_000, 0.112, 0.0995)
    seq = stats.sequential_lift(control, treat, tuning=10_000)
    half_at_p = stats.cs_halfwidth(seq.se, 10_000, 10_000, seq.p_value)
    assert half_at_p == pytest.approx(abs(seq.estimate), rel=1e-6)
    assert seq.p_value > stats.relative_lift(control, treat).p_value


def test_cuped_keeps_the_mean_and_cuts_the_variance() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(10, 2, 5_000)
    y = x + rng.normal(0, 1, 5_000)
    adj = stats.cuped(y, x)
    assert adj.mean() == pytest.approx(y.mean())
    # theta = 1 here, so the residual variance is about the noise's, 1 of 5
    assert adj.var() == pytest.approx(1.0, rel=0.1)


def test_ucb1_picks_by_the_auer_bound() -> None:
    state = BanditState(["a", "b"], "ucb1", pulls=[10, 2], reward_sum=[6.0, 1.0],
                        reward_sq=[6.0, 1.0])
    # a: 0.6 + sqrt(2 ln 12 / 10) = 1.305; b: 0.5 + sqrt(2 ln 12 / 2) = 2.076
    assert state.choose(np.random.default_rng(0)) == 1


def test_thompson_has_less_regret_than_epsilon_greedy_on_fixed_seeds() -> None:
    arms = [0.05, 0.06, 0.07]
    thompson = np.mean([simulate(arms, 5_000, "thompson", s)["regret"] for s in range(4)])
    greedy = np.mean([simulate(arms, 5_000, "epsilon", s)["regret"] for s in range(4)])
    assert thompson < greedy
    # the regret is an expectation over choices: at most horizon x the largest gap
    assert 0 <= thompson <= 5_000 * 0.02


def test_drift_tests_follow_the_sample_size() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 500).tolist()
    same = feature_drift("x", ref, rng.normal(0, 1, 500).tolist())
    shifted = feature_drift("x", ref, rng.normal(0.5, 1, 500).tolist())
    assert same.test == "ks" and not same.drift
    assert shifted.drift and shifted.p_value is not None and shifted.p_value < 1e-6
    big = feature_drift("x", rng.normal(0, 1, 5_000).tolist(), rng.normal(0.3, 1, 5_000).tolist())
    # the Wasserstein distance between N(0,1) and N(0.3,1) is the mean shift, 0.3 sd
    assert big.test == "wasserstein" and big.distance == pytest.approx(0.3, abs=0.05)
    cats = feature_drift("c", ["a"] * 3000 + ["b"] * 3000, ["a"] * 3000 + ["b"] * 3000)
    assert cats.test == "jensen-shannon" and cats.distance == pytest.approx(0.0) and not cats.drift


def test_psi_by_hand() -> None:
    # deciles of the reference; current puts 20 % where 10 % belonged in two bins
    ref = np.arange(1000, dtype=float)
    cur = np.concatenate([np.arange(0, 100), np.arange(0, 100), np.arange(200, 1000)]).astype(float)
    cur = cur[:1000]
    value = psi(ref, cur)
    # bins 0 and 1 hold 0.2 and 0.0 (clipped to 1e-4) instead of 0.1 each; the rest unchanged
    expect = (0.2 - 0.1) * math.log(0.2 / 0.1) + (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert value == pytest.approx(expect, rel=1e-3)
