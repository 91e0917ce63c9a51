from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.errors import InputError
from mlscope.release.stats import paired_bootstrap


def test_clear_improvement_has_positive_lower_bound() -> None:
    rng = np.random.default_rng(1)
    champion = rng.random(500)
    candidate = champion + 0.05 + rng.normal(0, 0.05, 500)
    res = paired_bootstrap(candidate, champion, seed=3)
    assert 0 < res.low < res.mean_difference < res.high
    assert res.method == "BCa" and res.n == 500


def test_noise_is_not_an_improvement() -> None:
    # A raw difference of means > 0 that is pure noise must not clear a zero lower bound.
    rng = np.random.default_rng(7)
    champion = rng.random(300)
    noise = rng.normal(0, 0.2, 300)
    candidate = champion + noise - noise.mean() + 0.005  # raw mean difference exactly +0.005
    res = paired_bootstrap(candidate, champion)
    assert res.mean_difference == pytest.approx(0.005)
    assert res.low < 0 < res.high


def test_identical_versions_are_degenerate() -> None:
    values = np.linspace(0, 1, 50)
    res = paired_bootstrap(values, values)
    assert (res.low, res.high, res.method) == (0.0, 0.0, "degenerate")


def test_seeded_results_repeat() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(100), rng.random(100)
    assert paired_bootstrap(a, b, seed=5) == paired_bootstrap(a, b, seed=5)


@pytest.mark.parametrize(("a", "b", "conf"), [
    ([1.0, 2.0], [1.0], 0.95), ([1.0], [1.0], 0.95), ([1.0, float("nan")], [1.0, 2.0], 0.95),
    ([1.0, 2.0], [0.0, 1.0], 1.5)])
def test_bad_input(a: list[float], b: list[float], conf: float) -> None:
    with pytest.raises(InputError):
        paired_bootstrap(a, b, confidence=conf)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=5, max_size=60),
       st.floats(-0.5, 0.5), st.integers(0, 1000))
def test_interval_brackets_the_mean(values: list[float], shift: float, seed: int) -> None:
    champion = np.asarray(values)
    noise = np.random.default_rng(seed).normal(0, 0.1, len(values))
    res = paired_bootstrap(champion + shift + noise, champion, resamples=300, seed=seed)
    assert res.low <= res.mean_difference + 1e-12 <= res.high + 2e-12
