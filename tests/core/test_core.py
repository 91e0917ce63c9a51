"""The shared value types: hand-computed figures, and parsers that refuse what is not finite."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.core import fmt, units
from mlscope.core.quantities import parse_hours, parse_quantity
from mlscope.core.ranges import Z90, Range
from mlscope.errors import EngineMissingError, require


def test_range_quantiles_match_the_normal_distribution() -> None:
    # Z90 is the standard normal's 90th percentile (scipy.stats.norm.ppf(0.9) = 1.2815515655...).
    assert pytest.approx(1.2815515655446004, rel=1e-12) == Z90
    r = Range.from_p10_p90(10.0, 40.0)
    assert r.median == pytest.approx(20.0)  # geometric mean of P10 and P90
    assert (r.p10, r.p90) == (pytest.approx(10.0), pytest.approx(40.0))
    assert (r * 2).to_dict() == pytest.approx({"p10": 20.0, "p50": 40.0, "p90": 80.0})
    # independent log-normal factors add their log-variances: sigma of the product is the hypot
    assert (r * r).sigma == pytest.approx(math.sqrt(2) * r.sigma)


def test_units_follow_aws_and_vendor_conventions() -> None:
    assert units.HOURS_PER_MONTH == 730.0 == units.HOURS_PER_YEAR / 12
    # an "80 GB" accelerator is 74.5 GiB; a 48 GB L40S exposes about 44.7 GiB
    assert units.gb_to_gib(80) == pytest.approx(74.505806, rel=1e-6)
    assert units.gib_to_gb(units.gb_to_gib(48)) == pytest.approx(48)


def test_one_formatter_for_money_hours_and_sizes() -> None:
    assert fmt.money(1540) == "$1,540" and fmt.money(1540, compact=True) == "$1.54k"
    assert fmt.money(2_500_000) == "$2.50M" and fmt.money(0.16) == "$0.16"
    assert fmt.money(float("nan")) == "n/a" and fmt.money(None) == "n/a"
    assert fmt.hours(0.5) == "30 min" and fmt.hours(36) == "36.0 h" and fmt.hours(72) == "3.0 d"
    assert fmt.duration(730) == "1 mo" and fmt.duration(8760) == "1 y"
    assert fmt.size(80e9) == "80.0 GB" and fmt.size(2**30, "GiB") == "1.0 GiB"
    assert fmt.chance(0.004) == "under 1%" and fmt.chance(0.25) == "25%"


def test_human_quantities() -> None:
    assert parse_quantity("7B") == 7e9 and parse_quantity("1.5M") == 1.5e6
    assert parse_hours("2w") == 336 and parse_hours("90min") == 1.5


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), "1e999"])
def test_non_finite_quantities_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="finite"):
        parse_quantity(bad)


@given(st.text(max_size=12))
def test_quantity_parser_never_crashes(text: str) -> None:
    try:
        out = parse_quantity(text)
    except ValueError:
        return
    assert isinstance(out, float) and math.isfinite(out)


def test_missing_extra_names_the_extra() -> None:
    with pytest.raises(EngineMissingError) as exc:
        require("mlscope_no_such_package", "calibrate")
    assert exc.value.one_line() == (
        "mlscope_no_such_package is not installed; pip install 'mlscope[calibrate]'")
    assert require("json", "core").dumps([1]) == "[1]"
