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


def test_sigma_makes_the_band_hold_80_percent_of_held_out_runs_per_era() -> None:
    runs = load_runs()
    m = default_model()
    pairs = held_out_residuals(runs)
    for era in ("modern", "pre-2023"):
        resid = sorted(abs(e) for r, e in pairs if r.software_era == era)
        # By hand: the 80th percentile of |residual| (linear interpolation) over Z90.
        k = 0.8 * (len(resid) - 1)
        lo, hi = resid[int(k)], resid[int(k) + 1]
        assert m.sigma[era] == pytest.approx((lo + (hi - lo) * (k - int(k))) / 1.2815515655)
        inside = sum(r <= 1.2815515655 * m.sigma[era] + 1e-12 for r in resid) / len(resid)
        assert abs(inside - 0.8) <= 1 / len(resid)  # interpolated: within one run of 80 %
    # Modern runs scatter more: their band is the wider one.
    assert m.sigma["modern"] > 1.5 * m.sigma["pre-2023"]


def test_a_modern_run_gets_the_modern_band() -> None:
    m = default_model()
    assert m.distribution("ampere", "modern")[1] == m.sigma["modern"]
    assert m.distribution("ampere", "pre-2023")[1] == m.sigma["pre-2023"]
    # An uncalibrated generation never gets a band narrower than the prior's.
    assert m.distribution("gaudi", "pre-2023")[1] >= 0.35
