"""Converting measured time into hours and dollars on AWS instances."""

from __future__ import annotations

import numpy as np
import pytest

from mlscope.errors import InputError, UnknownNameError
from mlscope.estimate.empirical.result import Run, measure_parallelism
from mlscope.estimate.empirical.targets import (
    FAMILY_SPEED,
    Parallelism,
    amdahl_fraction,
    estimate_instance,
    family_of,
    parse_speed_factors,
)

SECONDS = np.full(1000, 3600.0)  # one hour here, no spread


def test_amdahl_fraction_from_serial_and_parallel_times() -> None:
    assert amdahl_fraction(10.0, 5.0, 2) == pytest.approx(1.0)
    assert amdahl_fraction(10.0, 10.0, 4) == 0.0
    assert amdahl_fraction(10.0, 7.5, 2) == pytest.approx(0.5)
    assert amdahl_fraction(10.0, 12.0, 2) == 0.0  # slower in parallel: clamp, not negative


def test_more_vcpus_help_only_parallel_jobs() -> None:
    serial = Parallelism(0.0, 2, "serial-run")
    parallel = Parallelism(1.0, 2, "serial-run")
    small = estimate_instance("c6i.xlarge", None, SECONDS, 100, parallel, {})
    big = estimate_instance("c6i.8xlarge", None, SECONDS, 100, parallel, {})
    assert big.hours["p50"] < small.hours["p50"]
    assert estimate_instance("c6i.8xlarge", None, SECONDS, 100, serial, {}).hours["p50"] == (
        pytest.approx(1.0 / FAMILY_SPEED["c6i"][0]))
    # 4 vCPUs vs 2 CPUs here, fully parallel, at the c6i speed factor.
    assert small.hours["p50"] == pytest.approx(0.5 / FAMILY_SPEED["c6i"][0])
    assert small.usd_on_demand and small.usd_on_demand["p50"] > 0


def test_speed_factor_override_and_memory_check() -> None:
    p = Parallelism(0.0, 2, "assumed")
    est = estimate_instance("m5.large", None, SECONDS, 50_000, p, {"m5": 0.5})
    assert est.speed_factor == 0.5 and est.speed_basis.startswith("given")
    assert est.hours["p50"] == pytest.approx(2.0)
    assert not est.fits_memory and any("exceeds" in n for n in est.notes)


def test_gpu_instance_without_gpu_measurement_says_so() -> None:
    est = estimate_instance("g5.xlarge", None, SECONDS, 100, Parallelism(0.0, 2, "assumed"), {})
    assert any("without a GPU" in n for n in est.notes)


def test_parse_speed_factors() -> None:
    assert parse_speed_factors(["C6I=0.9", "m5=1.2"]) == {"c6i": 0.9, "m5": 1.2}
    for bad in ("c6i", "c6i=", "c6i=-1", "=2", "c6i=fast"):
        with pytest.raises(InputError):
            parse_speed_factors([bad])
    assert family_of("ml.c6i.4xlarge") == "c6i"


def test_unknown_instance_suggests_names() -> None:
    with pytest.raises(UnknownNameError, match="instance"):
        estimate_instance("c6x.large", None, SECONDS, 1, Parallelism(0.0, 2, "assumed"), {})


def test_parallelism_from_cpu_time_when_no_serial_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mlscope.estimate.empirical.result.available_cpus", lambda: 4)
    runs = [Run(0.1, 0, wall_s=10.0, cpu_s=25.0, peak_rss_mb=1), Run(0.05, 0, 5.0, 5.0, 1)]
    p = measure_parallelism(runs)
    assert p.method == "cpu-time"
    assert p.speedup(4) == pytest.approx(2.5)
    runs.append(Run(0.1, 0, wall_s=30.0, cpu_s=30.0, peak_rss_mb=1, threads=1))
    measured = measure_parallelism(runs)
    assert measured.method == "serial-run" and measured.speedup(4) == pytest.approx(3.0)


def test_dollars_come_from_the_one_pricing_module() -> None:
    """On-demand = hours x the catalog price (by hand); spot and savings follow mlscope.pricing."""
    from mlscope.catalog import get_catalog
    from mlscope.core.ranges import Range
    from mlscope.pricing import instance_price, run_price

    serial = Parallelism(0.0, 2, "serial-run")
    est = estimate_instance("c6i.xlarge", None, SECONDS, 100, serial, {"c6i": 1.0})
    inst = get_catalog().instance("c6i.xlarge", None)
    assert est.hours["p50"] == pytest.approx(1.0)
    assert inst.on_demand_usd_hr is not None
    assert est.usd_on_demand is not None
    assert est.usd_on_demand["p50"] == pytest.approx(1.0 * inst.on_demand_usd_hr)
    spot = run_price(inst, "spot", 1, Range(1.0))
    assert spot is not None and est.usd_spot is not None
    assert est.usd_spot["p50"] == pytest.approx(spot.cost_usd.median)
    # Spot includes pricing's interruption model: wall-clock longer than on dedicated capacity.
    assert est.spot_wall_clock_hours is not None and est.spot_wall_clock_hours["p50"] > 1.0
    price = instance_price(inst, "spot")
    assert price is not None and est.usd_spot["p50"] > price.usd_per_hour.median * 1.0 - 1e-12
    assert est.usd_savings_1y is not None and est.usd_savings_1y["p50"] < est.usd_on_demand["p50"]
    assert any("spot" in a for a in est.price_assumptions)
