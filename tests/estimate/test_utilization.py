from __future__ import annotations

import math
import statistics

import pytest

from mlscope.errors import InputError
from mlscope.estimate.utilization import (
    UtilizationModel,
    default_model,
    fit,
    grouped_residuals,
    held_out_residuals,
    load_runs,
    runs_digest,
    shipped_fit,
)


def test_calibration_runs_have_sources_and_plausible_mfu() -> None:
    runs = load_runs()
    assert len(runs) >= 40
    assert len({r.organization for r in runs}) >= 12
    for r in runs:
        assert r.source and r.organization and r.family, r.name
        assert 0.1 < r.mfu < 0.7, r.name


def test_multi_pass_figures_are_listed_but_not_fitted() -> None:
    everything = load_runs(include_excluded=True)
    excluded = [r for r in everything if not r.fitted]
    assert {"Llama 3.1 8B", "Llama 3.2 1B", "BloombergGPT 50B"} <= {r.name for r in excluded}
    assert all(r.excluded_why for r in excluded)
    assert not {r.name for r in excluded} & {r.name for r in load_runs()}


def test_shipped_fit_is_what_refitting_gives() -> None:
    data = shipped_fit()
    assert data["runs_digest"] == runs_digest(), "run tools/build_catalog.py to refit"
    shipped = UtilizationModel.from_dict(data["model"])
    refit = fit(load_runs())
    assert refit.intercepts == pytest.approx(shipped.intercepts)
    assert refit.modern_step == pytest.approx(shipped.modern_step)
    assert refit.sigma == pytest.approx(shipped.sigma)
    assert refit.fitted_generations == shipped.fitted_generations
    assert default_model() == shipped  # read from data, not refitted per process


def test_mfu_of_a_published_run_by_hand() -> None:
    # Llama 2 70B: 1,720,320 A100-80GB hours for 2T tokens at 4096 context (model card);
    # PaLM's model FLOPs 6·N·D + 12·L·s·h·D; the shape inferred from 70e9 parameters is
    # 71 layers x 9088 (hidden = 128 x layers, 12·L·h² ~ N).
    run = next(r for r in load_runs() if r.name == "Llama 2 70B")
    flops = 6 * 70e9 * 2e12 + 12 * 71 * 4096 * 9088 * 2e12
    assert run.mfu == pytest.approx(flops / (1_720_320 * 3600 * 312e12), rel=0.01)
    assert run.software_era == "modern"
    assert next(r for r in load_runs() if r.name == "OPT-175B").software_era == "pre-2023"


def test_generation_order_matches_practice() -> None:
    m = default_model()
    ampere, _ = m.distribution("ampere")
    volta, _ = m.distribution("volta")
    assert 0.35 < ampere < 0.55
    assert volta < ampere  # V100-era runs reached a smaller share of peak


def test_software_era_step_and_bad_era() -> None:
    m = default_model()
    modern, old = m.median("hopper", "modern"), m.median("hopper", "pre-2023")
    assert modern / old == pytest.approx(math.exp(m.modern_step))
    assert 1.15 < modern / old < 1.5
    with pytest.raises(InputError, match="software era"):
        m.median("hopper", "2019")


def test_software_step_earns_its_place_out_of_sample() -> None:
    # The step was chosen after looking at the runs: it has to lower the held-out error.
    runs = load_runs()
    def median_err(resid: list[float]) -> float:
        return statistics.median(abs(math.exp(r) - 1) for r in resid)
    with_step = median_err(grouped_residuals(runs))
    without = median_err(grouped_residuals(runs, software=False))
    assert with_step < 0.8 * without


def test_unfitted_generation_gets_wider_range() -> None:
    m = default_model()
    _, fitted = m.distribution("ampere")
    _, prior = m.distribution("gaudi")
    assert prior > fitted


def _scale(count: int | None, exponent: float) -> float:
    """By hand: (count / 1000) ** -exponent, unknown counts at 1000, clamped to 8..16,384."""
    return (min(max(count or 1000, 8), 16384) / 1000) ** -exponent


def test_sigma_makes_the_band_hold_80_percent_of_held_out_runs_per_era() -> None:
    runs = load_runs()
    m = default_model()
    assert m.count_range == (8, 16384)  # the smallest and largest published counts
    pairs = held_out_residuals(runs)
    for era in ("modern", "pre-2023"):
        # By hand: the 80th percentile (linear interpolation) of |residual| with the count's
        # scale divided out, over Z90.
        resid = sorted(abs(e) / _scale(r.count, m.count_exponent)
                       for r, e in pairs if r.software_era == era)
        k = 0.8 * (len(resid) - 1)
        lo, hi = resid[int(k)], resid[int(k) + 1]
        assert m.sigma[era] == pytest.approx((lo + (hi - lo) * (k - int(k))) / 1.2815515655)
        inside = sum(r <= 1.2815515655 * m.sigma[era] + 1e-12 for r in resid) / len(resid)
        assert abs(inside - 0.8) <= 1 / len(resid)  # interpolated: within one run of 80 %
    # Modern runs scatter more: their band is the wider one.
    assert m.sigma["modern"] > m.sigma["pre-2023"]


def test_count_exponent_is_the_likelihood_maximum_of_the_held_out_residuals() -> None:
    """The exponent maximises the held-out residuals' Gaussian likelihood on the 0-0.5 grid,
    each exponent with its own coverage-set levels; checked against one band for all counts."""
    runs = load_runs()
    m = default_model()
    pairs = held_out_residuals(runs)

    def loglik(exponent: float) -> float:
        levels = {}
        for era in ("modern", "pre-2023"):
            z = sorted(abs(e) / _scale(r.count, exponent) for r, e in pairs
                       if r.software_era == era)
            k = 0.8 * (len(z) - 1)
            levels[era] = (z[int(k)] + (z[int(k) + 1] - z[int(k)]) * (k - int(k))) / 1.2815515655
        total = 0.0
        for r, e in pairs:
            s = levels[r.software_era] * _scale(r.count, exponent)
            total -= math.log(s) + 0.5 * (e / s) ** 2
        return total

    assert m.count_exponent == pytest.approx(0.24)
    best = loglik(m.count_exponent)
    assert all(best >= loglik(k / 50) - 1e-9 for k in range(26))
    assert best > loglik(0.0) + 1.0  # clearly better than one band for every count


def test_band_is_wider_for_a_few_nodes_than_for_a_large_cluster() -> None:
    m = default_model()
    s8, s1000, s16k = (m.distribution("ampere", "modern", n)[1] for n in (8, 1000, 16384))
    assert s8 == pytest.approx(m.sigma["modern"] * (8 / 1000) ** -m.count_exponent)
    assert s16k == pytest.approx(m.sigma["modern"] * (16384 / 1000) ** -m.count_exponent)
    assert s8 > 2 * s1000 > 2 * s16k
    # Not extrapolated beyond the published counts; an unknown count is planned at 1,000.
    assert m.distribution("ampere", "modern", 1)[1] == s8
    assert m.distribution("ampere", "modern", 100_000)[1] == s16k
    assert m.distribution("ampere", "modern")[1] == pytest.approx(s1000)


def test_a_modern_run_gets_the_modern_band() -> None:
    m = default_model()
    assert m.distribution("ampere", "modern")[1] == pytest.approx(m.sigma["modern"])
    assert m.distribution("ampere", "pre-2023")[1] == pytest.approx(m.sigma["pre-2023"])
    # An uncalibrated generation never gets a band narrower than the prior's.
    assert m.distribution("gaudi", "pre-2023")[1] >= 0.35
