from __future__ import annotations

import math

import pytest

from mlscope.estimate.utilization import (
    UtilizationModel,
    default_model,
    fit,
    grouped_residuals,
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
    assert refit.count_slope == pytest.approx(shipped.count_slope)
    assert refit.sigma == pytest.approx(shipped.sigma)
    assert refit.fitted_generations == shipped.fitted_generations
    assert default_model() == shipped  # read from data, not refitted per process


def test_generation_order_matches_practice() -> None:
    m = default_model()
    ampere, _ = m.distribution("ampere", 1024)
    volta, _ = m.distribution("volta", 1024)
    assert 0.3 < ampere < 0.5
    assert volta < ampere  # V100-era runs reached a smaller share of peak


def test_unfitted_generation_gets_wider_range() -> None:
    m = default_model()
    _, fitted = m.distribution("ampere", 64)
    _, prior = m.distribution("gaudi", 64)
    assert prior > fitted


def test_sigma_is_the_grouped_cross_validation_error() -> None:
    runs = load_runs()
    resid = grouped_residuals(runs)
    m = default_model()
    assert m.sigma == pytest.approx(math.sqrt(sum(r * r for r in resid) / len(resid)))
    inside = sum(abs(r) <= 1.2816 * m.sigma for r in resid) / len(resid)
    assert inside >= 0.75
