"""`mlscope cost schedule`: the CLI contract external checks rely on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mlscope.catalog import get_catalog

CONTRACT = ("running_hours", "always_on_hours", "cost_usd", "always_on_cost_usd", "savings_usd")


def test_contract_keys_and_values(run: Callable[..., Any]) -> None:
    res = run("cost", "schedule", "--expr", "off=(M-F,19);on=(M-F,7);tz=pt", "--instance",
              "ml.m5.xlarge", "--region", "us-east-1", "--month", "2026-03", "--json")
    assert res.code == 0, res.err
    data = res.json()
    for key in CONTRACT:
        assert isinstance(data[key], float | int)
    price = get_catalog().instance("ml.m5.xlarge", "us-east-1").on_demand_usd_hr
    assert data["running_hours"] == 22 * 12
    assert data["always_on_hours"] == 743  # DST starts 2026-03-08 in Los Angeles
    assert data["cost_usd"] == pytest.approx(264 * price, abs=1e-3)
    assert data["always_on_cost_usd"] == pytest.approx(743 * price, abs=1e-3)
    assert data["savings_usd"] == pytest.approx(data["always_on_cost_usd"] - data["cost_usd"],
                                                abs=1e-3)
    assert data["price_quality"] in ("derived-rough", "secondary-rough", "catalog", "imported")


def test_november_has_745_hours_in_berlin(run: Callable[..., Any]) -> None:
    res = run("cost", "schedule", "--expr", "off=(M-U,23);on=(M-U,0);tz=cet", "--instance",
              "m5.large", "--month", "2026-10", "--json")
    data = res.json()
    assert data["always_on_hours"] == 745
    assert data["running_hours"] == 31 * 23 + 1  # the repeated hour 02:00 runs twice


def test_instance_scheduler_period_gives_the_same_hours(run: Callable[..., Any]) -> None:
    a = run("cost", "schedule", "--expr", "off=[(M-F,21),(U,18)];on=[(M-F,6),(U,10)];tz=pt",
            "--instance", "m5.large", "--month", "2026-11", "--json").json()
    b = run("cost", "schedule", "--period", "begintime=06:00;endtime=21:00;weekdays=mon-fri",
            "--period", "begintime=10:00;endtime=18:00;weekdays=sun", "--tz",
            "America/Los_Angeles", "--instance", "m5.large", "--month", "2026-11",
            "--json").json()
    for key in CONTRACT:
        assert a[key] == b[key]


def test_holidays_and_count(run: Callable[..., Any]) -> None:
    one = run("cost", "schedule", "--expr", "off=(M-F,19);on=(M-F,7);tz=et", "--instance",
              "m5.large", "--month", "2026-12", "--json").json()
    two = run("cost", "schedule", "--expr", "off=(M-F,19);on=(M-F,7);tz=et", "--instance",
              "m5.large", "--month", "2026-12", "--count", "2", "--holiday", "2026-12-25",
              "--json").json()
    assert two["running_hours"] == one["running_hours"] - 12
    assert two["cost_usd"] == pytest.approx(2 * two["running_hours"] * two["usd_per_hour"],
                                            abs=1e-3)
    assert two["holidays"] == ["2026-12-25"]


def test_table_output(run: Callable[..., Any]) -> None:
    res = run("cost", "schedule", "--expr", "off=(M-F,19);on=(M-F,7);tz=pt", "--instance",
              "ml.t3.medium", "--month", "2026-03")
    assert res.code == 0
    assert "264.0 of 743.0 h" in res.out


@pytest.mark.parametrize(("args", "message"), [
    (["--expr", "off=(M-F,19);on=(M-F,7);tz=pt", "--instance", "ml.m5.xlarg"],
     "did you mean ml.m5.xlarge"),
    (["--expr", "off=(M-X,19);on=(M-F,7)", "--instance", "m5.large"],
     "at position 8: 'X'"),
    (["--expr", "off=(M-F,19)", "--period", "begintime=07:00", "--instance", "m5.large"],
     "use --expr or --period"),
    (["--instance", "m5.large"], "no schedule given"),
    (["--period", "begintime=07:00;endtime=19:00", "--tz", "Mars/Base", "--instance",
      "m5.large"], "unknown time zone"),
    (["--expr", "off=(M-F,19)", "--instance", "m5.large", "--region", "eu-west-9"],
     "unknown region"),
    (["--expr", "off=(M-F,19)", "--instance", "m5.large", "--holiday", "2026-13-01"],
     "is not a date"),
    (["--expr", "off=(M-F,19)", "--instance", "m5.large", "--count", "0"],
     "count must be at least 1"),
    (["--expr", "off=(M-F,19);tz=pt", "--tz", "UTC", "--instance", "m5.large"],
     "--tz is for --period"),
])
def test_errors_are_one_line_exit_2(run: Callable[..., Any], args: list[str],
                                    message: str) -> None:
    res = run("cost", "schedule", *args, "--month", "2026-03", "--json")
    assert res.code == 2
    assert message in res.err
    assert "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1


def test_bad_month(run: Callable[..., Any]) -> None:
    res = run("cost", "schedule", "--expr", "on", "--instance", "m5.large", "--month", "2026-3x")
    assert res.code == 2 and "YYYY-MM" in res.err
