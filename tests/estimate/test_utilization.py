from __future__ import annotations

import math

from mlscope.estimate.utilization import default_model, leave_one_out_residuals, load_runs


def test_calibration_runs_have_sources_and_plausible_mfu() -> None:
    runs = load_runs()
    assert len(runs) >= 15
    for r in runs:
        assert r.source and 0.05 < r.mfu < 0.7, r.name


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


def test_leave_one_out_errors_are_honest() -> None:
    resid = leave_one_out_residuals(load_runs())
    m = default_model()
    inside = sum(abs(r) <= 1.2816 * m.sigma for r in resid) / len(resid)
    assert inside >= 0.75
    assert m.sigma == math.sqrt(sum(r * r for r in resid) / len(resid))
