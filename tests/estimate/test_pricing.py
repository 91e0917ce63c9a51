"""mlscope.pricing: hand-computed prices per purchase option and the spot interruption model."""

from __future__ import annotations

import math

import pytest

from mlscope.catalog import get_catalog
from mlscope.core.ranges import Range
from mlscope.errors import InputError, UnknownNameError
from mlscope.pricing import (
    DEFAULT_SPOT,
    LARGE_SPOT_FLEET,
    PURCHASE_OPTIONS,
    SpotAssumptions,
    instance_price,
    price,
    run_price,
    spot_capacity_warning,
    spot_time_factor,
)


def test_on_demand_is_the_catalog_figure() -> None:
    p = price("p5.48xlarge", "us-east-1")
    assert p.usd_per_hour.median == pytest.approx(55.04)
    assert p.usd_per_hour.sigma == 0
    assert p.quality == "catalog" and p.date and p.source


def test_spot_is_catalog_spot_times_uplift() -> None:
    # p5.48xlarge us-east-1 spot 17.6289 (34 % of 55.04): used, x 1.0-1.8 (geometric median 1.342)
    p = price("p5.48xlarge", "us-east-1", "spot")
    assert p.usd_per_hour.p10 == pytest.approx(17.6289)
    assert p.usd_per_hour.p90 == pytest.approx(17.6289 * 1.8)
    assert p.usd_per_hour.median == pytest.approx(17.6289 * math.sqrt(1.8))
    assert not p.flags


def test_suspect_spot_is_flagged_and_not_used() -> None:
    # p4d.24xlarge us-east-1 spot 2.4655 is 11 % of 21.957642 on-demand: suspect.
    p = price("p4d.24xlarge", "us-east-1", "spot")
    assert "suspect-spot" in p.flags
    assert p.quality == "suspect-spot-replaced"
    assert p.usd_per_hour.p10 == pytest.approx(0.30 * 21.957642)
    assert p.usd_per_hour.p90 == pytest.approx(0.70 * 21.957642)
    assert any("suspect" in a for a in p.assumptions)


def test_savings_plans_relative_to_on_demand() -> None:
    p1 = price("p5.48xlarge", "us-east-1", "savings-1y")
    p3 = price("p5.48xlarge", "us-east-1", "savings-3y")
    assert (p1.usd_per_hour.p10, p1.usd_per_hour.p90) == pytest.approx((0.60 * 55.04, 0.78 * 55.04))
    assert (p3.usd_per_hour.p10, p3.usd_per_hour.p90) == pytest.approx((0.40 * 55.04, 0.58 * 55.04))


def test_missing_price_and_unknown_names() -> None:
    with pytest.raises(InputError, match="no on-demand price"):
        price("p5e.48xlarge", "us-west-2")  # the catalog row has spot only
    with pytest.raises(UnknownNameError):
        price("p9.48xlarge", "us-east-1")
    with pytest.raises(InputError, match="unknown purchase"):
        instance_price(get_catalog().instance("p5.48xlarge", "us-east-1"), "reserved")


def test_spot_time_factor_grows_with_nodes_by_hand() -> None:
    # rate P10 3e-4, P90 3e-3 per node-hour; loss per interruption 1/2 + 0.25 = 0.75 h.
    one = spot_time_factor(1)
    assert one is not None
    assert one.p10 == pytest.approx(1 / (1 - 3e-4 * 0.75))
    assert one.p90 == pytest.approx(1 / (1 - 3e-3 * 0.75))
    big = spot_time_factor(256)
    assert big is not None
    assert big.p90 == pytest.approx(1 / (1 - 256 * 3e-3 * 0.75))  # 2.36x
    assert big.median > one.median
    # So many nodes that interruptions come faster than progress: not viable.
    assert spot_time_factor(2000) is None


def test_checkpoint_interval_and_restart_time_matter() -> None:
    often = SpotAssumptions(Range.from_p10_p90(1e-3, 1e-3 * 1.0000001), 0.5, 0.1)
    rarely = SpotAssumptions(Range.from_p10_p90(1e-3, 1e-3 * 1.0000001), 4.0, 0.1)
    f_often, f_rarely = spot_time_factor(64, often), spot_time_factor(64, rarely)
    assert f_often is not None and f_rarely is not None
    assert f_often.median == pytest.approx(1 / (1 - 64 * 1e-3 * 0.35), rel=1e-6)
    assert f_rarely.median == pytest.approx(1 / (1 - 64 * 1e-3 * 2.1), rel=1e-6)


def test_run_price_dollars_by_hand() -> None:
    inst = get_catalog().instance("p5.48xlarge", "us-east-1")
    wall = Range(100.0)
    od = run_price(inst, "on-demand", 4, wall)
    assert od is not None
    assert od.cost_usd.median == pytest.approx(100 * 55.04 * 4)  # $22,016
    assert od.wall_clock_hours.median == pytest.approx(100.0)
    sp = run_price(inst, "spot", 4, wall)
    assert sp is not None
    factor = spot_time_factor(4)
    assert factor is not None
    assert sp.wall_clock_hours.median == pytest.approx(100.0 * factor.median)
    assert sp.cost_usd.median == pytest.approx(
        100.0 * factor.median * 17.6289 * math.sqrt(1.8) * 4)
    assert any("per node-hour" in a for a in sp.assumptions)


def test_large_spot_fleet_warns() -> None:
    assert spot_capacity_warning(LARGE_SPOT_FLEET - 1) is None
    assert "rarely available" in (spot_capacity_warning(LARGE_SPOT_FLEET) or "")
    inst = get_catalog().instance("p5.48xlarge", "us-east-1")
    sp = run_price(inst, "spot", 64, Range(10.0))
    assert sp is not None and any("rarely available" in a for a in sp.assumptions)


def test_bad_spot_assumptions_rejected() -> None:
    with pytest.raises(InputError):
        SpotAssumptions(checkpoint_interval_hours=float("nan"))
    with pytest.raises(InputError):
        SpotAssumptions(restart_hours=-1)


def test_every_option_has_a_price_for_p5() -> None:
    inst = get_catalog().instance("p5.48xlarge", "us-east-1")
    assert all(instance_price(inst, o) is not None for o in PURCHASE_OPTIONS)
    assert DEFAULT_SPOT.to_dict()["checkpoint_interval_hours"] == 1.0
