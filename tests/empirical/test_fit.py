"""Curve fitting on synthetic timings: known laws are recovered and ranges are honest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.errors import InputError
from mlscope.estimate.empirical.fit import (
    FAR_EXTRAPOLATION,
    fit_and_predict,
    fit_curve,
    repeat_noise,
)

FRACTIONS = np.repeat([0.01, 0.02, 0.05, 0.1], 2)


def test_linear_law_with_startup_is_recovered() -> None:
    y = 1.5 + 80.0 * FRACTIONS
    result = fit_and_predict(FRACTIONS, y, 1.0, "seconds")
    assert result.prediction.p50 == pytest.approx(81.5, rel=0.02)
    assert result.prediction.p10 <= 81.5 <= result.prediction.p90
    assert result.curve.a == pytest.approx(1.5, rel=0.05)


@settings(max_examples=25, deadline=None)
@given(a=st.floats(0.0, 3.0), b=st.floats(5.0, 500.0), c=st.floats(0.5, 2.0))
def test_exact_power_laws_are_recovered(a: float, b: float, c: float) -> None:
    y = a + b * FRACTIONS ** c
    curve = fit_curve("power", FRACTIONS, y)
    truth = a + b
    # The exponent is found on a grid, then refined to 0.001.
    assert float(curve(1.0)) == pytest.approx(truth, rel=0.05)
    p = fit_and_predict(FRACTIONS, y, 1.0, "seconds").prediction
    assert p.p10 <= truth <= p.p90
    if b * 0.1 ** c >= a:  # the data, not the start-up, is most of the largest run
        assert p.p50 == pytest.approx(truth, rel=0.08)


def test_superlinear_law_is_not_mistaken_for_linear() -> None:
    y = 0.5 + 300.0 * FRACTIONS ** 1.5
    result = fit_and_predict(FRACTIONS, y, 1.0, "seconds")
    assert result.curve.model == "power"
    assert result.curve.c == pytest.approx(1.5, abs=0.03)
    assert result.prediction.p50 == pytest.approx(300.5, rel=0.05)


def test_noisy_timings_give_a_range_that_holds_the_truth_usually() -> None:
    rng = np.random.default_rng(7)
    inside = 0
    for trial in range(20):
        y = (1.0 + 60.0 * FRACTIONS) * np.exp(rng.normal(0, 0.05, FRACTIONS.size))
        truth = 61.0 * np.exp(rng.normal(0, 0.05))
        p = fit_and_predict(FRACTIONS, y, 1.0, "seconds", seed=trial).prediction
        inside += p.p10 <= truth <= p.p90
        assert p.p90 / p.p10 > 1.05  # noise is never reported as certainty
    assert inside >= 13  # an 80 % interval; allow for chance on 20 trials


def test_epochs_scale_only_the_data_part() -> None:
    y = 2.0 + 40.0 * FRACTIONS
    one = fit_and_predict(FRACTIONS, y, 1.0, "seconds").prediction.p50
    three = fit_and_predict(FRACTIONS, y, 1.0, "seconds", scale_data_part=3).prediction.p50
    assert three == pytest.approx(2.0 + 3 * 40.0, rel=0.03)
    assert three < 3 * one


def test_far_extrapolation_and_poor_fit_warn_and_widen() -> None:
    x = np.repeat([0.001, 0.002, 0.004], 2)
    y = 0.02 + 50 * x
    near = fit_and_predict(x, y, 0.004 * 2, "seconds")
    far = fit_and_predict(x, y, 1.0, "seconds")
    assert far.extrapolation_ratio > FAR_EXTRAPOLATION
    assert any("largest measured fraction" in w for w in far.warnings)
    assert not near.warnings
    width = lambda r: r.prediction.p90 / r.prediction.p10  # noqa: E731
    assert width(far) > width(near)
    rng = np.random.default_rng(1)
    erratic = fit_and_predict(FRACTIONS, rng.uniform(1, 10, FRACTIONS.size), 1.0, "seconds")
    assert any("poor fit" in w for w in erratic.warnings)


def test_runs_that_are_mostly_start_up_warn_and_widen() -> None:
    mostly_data = fit_and_predict(FRACTIONS, 0.1 + 50 * FRACTIONS, 1.0, "seconds")
    mostly_start = fit_and_predict(FRACTIONS, 10 + 50 * FRACTIONS, 1.0, "seconds")
    assert not mostly_data.warnings
    assert any("start-up" in w for w in mostly_start.warnings)
    rel = lambda r: r.prediction.p90 / r.prediction.p10  # noqa: E731
    assert rel(mostly_start) > rel(mostly_data)


def test_wildly_differing_repeats_say_the_machine_is_busy() -> None:
    calm = fit_and_predict(FRACTIONS, 0.1 + 50 * FRACTIONS, 1.0, "seconds")
    busy_y = (0.1 + 50 * FRACTIONS) * np.tile([1.0, 3.0], 4)
    busy = fit_and_predict(FRACTIONS, busy_y, 1.0, "seconds")
    assert any("busy" in w for w in busy.warnings) and not calm.warnings
    assert busy.prediction.p90 > calm.prediction.p90


def test_repeat_noise_is_zero_for_identical_repeats() -> None:
    assert repeat_noise(FRACTIONS, 1 + FRACTIONS) == 0.0
    assert repeat_noise(FRACTIONS, (1 + FRACTIONS) * np.tile([1.0, 1.2], 4)) > 0.05


def test_one_fraction_cannot_be_fitted() -> None:
    with pytest.raises(InputError, match="two or more fractions"):
        fit_and_predict([0.1, 0.1], [1.0, 1.1], 1.0, "seconds")
